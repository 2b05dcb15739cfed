// Keys, numbers and signatures of the field app. The rules are the server's
// (efine_core::device and efine_core::qr); this file only reproduces them byte for byte.

const enc = new TextEncoder();

export function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The phone's own Ed25519 key: the private half cannot be exported, only used.
export async function makeKey() {
  return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
}

export async function publicKeyBytes(pair) {
  return new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
}

export async function keyId(pub) {
  return (await sha256(pub)).slice(0, 4);
}

async function sign(pair, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, bytes));
}

function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

function i64be(v) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(v));
  return b;
}

function lenStr(s) {
  const b = enc.encode(s);
  return concat(Uint8Array.of(b.length), b);
}

// The QR token (efine_core::qr): version 1, kind 'C', key id, number, amount in paisa,
// department, district, Unix seconds; Ed25519 over "efine-qr-v1\0" and that.
export async function challanToken(pair, kid, c) {
  const body = concat(
    Uint8Array.of(1, 0x43),
    kid,
    lenStr(c.number),
    i64be(c.amount_paisa),
    lenStr(c.department),
    lenStr(c.district),
    i64be(Math.floor(c.issued_at_ms / 1000)),
  );
  const sig = await sign(pair, concat(enc.encode("efine-qr-v1\0"), body));
  return b64url(concat(body, sig));
}

// A sync item's signature: over "efine-device-item-v1\0" and the item's exact text.
export async function signItem(pair, text) {
  return b64url(await sign(pair, concat(enc.encode("efine-device-item-v1\0"), enc.encode(text))));
}

// A vehicle check's signature: over "efine-device-check-v1\0" and the request's text.
export async function signCheck(pair, text) {
  return b64url(await sign(pair, concat(enc.encode("efine-device-check-v1\0"), enc.encode(text))));
}

// Challan numbers a device allocates: 9 SSS CCCCC after department, district and year.
export function challanNumber(device, counter, issuedAtMs) {
  const seq = 900000000 + device.slot * 100000 + counter;
  return `${device.department_abbr}-${device.district_abbr}-${karachiYear(issuedAtMs)}-${seq}`;
}

export function karachiYear(ms) {
  return new Date(ms + 5 * 3600 * 1000).getUTCFullYear();
}

const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

// The PSID follows from the number (efine_core::psid): YY DD dd SSSSSSSSS and a Damm digit.
export function psid(device, counter, issuedAtMs) {
  const seq = 900000000 + device.slot * 100000 + counter;
  const yy = String(karachiYear(issuedAtMs) % 100).padStart(2, "0");
  const body =
    yy +
    String(device.department_number).padStart(2, "0") +
    String(device.district_number).padStart(2, "0") +
    String(seq).padStart(9, "0");
  let state = 0;
  for (const ch of body) state = DAMM[state][ch.charCodeAt(0) - 48];
  return body + state;
}

export function rupees(paisa) {
  const r = Math.floor(paisa / 100);
  const p = paisa % 100;
  const grouped = String(r).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return p === 0 ? `Rs ${grouped}` : `Rs ${grouped}.${String(p).padStart(2, "0")}`;
}
