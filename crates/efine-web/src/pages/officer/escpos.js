// The 58 mm slip as ESC/POS bytes (32 columns of font A), with the QR code printed by the
// printer's own command (GS ( k), and the ways to send it: Web Serial (Bluetooth SPP
// printers) or Web Bluetooth (BLE printers). Urdu is not sent as text: the slip is in
// English and digits, which every printer can print, with the Urdu lines (department and
// offence) drawn by the phone and sent as a raster image (GS v 0), since printers cannot shape
// Nastaliq.

const ESC = 0x1b;
const GS = 0x1d;
const COLS = 32;

// Splits text into lines of at most `width` characters at word boundaries (a word longer
// than a line is cut).
export function wrap(text, width = COLS) {
  const out = [];
  let line = "";
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    let w = word;
    while (w.length > width) {
      if (line) {
        out.push(line);
        line = "";
      }
      out.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= width) line += " " + w;
    else {
      out.push(line);
      line = w;
    }
  }
  if (line) out.push(line);
  return out;
}

function ascii(s) {
  // Printers take code page 437 here: anything else becomes '?'.
  return Array.from(String(s), (c) => (c.charCodeAt(0) < 128 ? c.charCodeAt(0) : 0x3f));
}

// 384 dots: the printable width of a 58 mm head at 203 dpi.
const DOTS = 384;

// Right-to-left text drawn on a canvas and turned into one raster command per line of the
// image. Returns [] where there is no canvas (the slip is then English only).
export function raster(text) {
  if (!text || typeof document === "undefined") return [];
  const c = document.createElement("canvas");
  const ctx = c.getContext("2d");
  const font = '28px "Noto Nastaliq Urdu", "Noto Naskh Arabic", serif';
  ctx.font = font;
  // Wrap at word boundaries to the paper's width.
  const lines = [];
  let line = "";
  for (const w of String(text).split(/\s+/).filter(Boolean)) {
    const next = line ? line + " " + w : w;
    if (line && ctx.measureText(next).width > DOTS - 8) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line) lines.push(line);
  const lh = 48;
  c.width = DOTS;
  c.height = lh * lines.length;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = "#000";
  ctx.font = font;
  ctx.direction = "rtl";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  lines.forEach((l, i) => ctx.fillText(l, DOTS - 4, i * lh + lh / 2));
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  const wb = DOTS / 8;
  const out = [GS, 0x76, 0x30, 0, wb & 0xff, wb >> 8, c.height & 0xff, c.height >> 8];
  for (let y = 0; y < c.height; y++) {
    for (let xb = 0; xb < wb; xb++) {
      let byte = 0;
      for (let bit = 0; bit < 8; bit++) {
        const i = (y * DOTS + xb * 8 + bit) * 4;
        if (px[i] < 128) byte |= 0x80 >> bit;
      }
      out.push(byte);
    }
  }
  return out;
}

export function slip(c) {
  const b = [];
  const text = (s) => b.push(...ascii(s), 0x0a);
  const lines = (s) => wrap(s).forEach(text);
  b.push(ESC, 0x40); // initialise
  b.push(ESC, 0x61, 1); // centre
  b.push(ESC, 0x45, 1);
  lines(c.department_name);
  b.push(ESC, 0x45, 0);
  lines(c.district_name);
  text("CHALLAN");
  b.push(ESC, 0x61, 0); // left
  text("-".repeat(COLS));
  text("No: " + c.number);
  text("PSID: " + c.psid);
  lines("Offence: " + c.offence_name);
  b.push(...raster(c.offence_name_ur));
  text("Amount: " + c.amount_display);
  text("Pay by: " + c.due_date);
  text("Issued: " + c.issued_local);
  lines("Officer: " + c.officer);
  if (c.vehicle) text("Vehicle: " + c.vehicle);
  if (c.place) lines("Place: " + c.place);
  text("-".repeat(COLS));
  lines(
    "How to pay: at any bank, ATM, mobile or internet banking app through 1Bill " +
      "with the PSID above, or at " + c.public_url + "/c/" + c.number,
  );
  lines("How to appeal: within the time to pay, at " + c.public_url + "/c/" + c.number + "/appeal");
  lines("Check this slip is genuine: scan the code or open " + c.public_url + "/v/");
  // QR: model 2, module size 4, error correction M, store, print.
  const data = ascii(c.verify_url);
  const n = data.length + 3;
  b.push(ESC, 0x61, 1);
  b.push(GS, 0x28, 0x6b, 4, 0, 0x31, 0x41, 0x32, 0x00);
  b.push(GS, 0x28, 0x6b, 3, 0, 0x31, 0x43, 0x04);
  b.push(GS, 0x28, 0x6b, 3, 0, 0x31, 0x45, 0x31);
  b.push(GS, 0x28, 0x6b, n & 0xff, n >> 8, 0x31, 0x50, 0x30, ...data);
  b.push(GS, 0x28, 0x6b, 3, 0, 0x31, 0x51, 0x30);
  b.push(0x0a);
  b.push(ESC, 0x61, 0);
  if (!c.synced) lines("Issued offline on device " + c.device + "; the PSID works once synced.");
  b.push(0x0a, 0x0a, 0x0a);
  b.push(GS, 0x56, 0x42, 0); // cut, where the printer has a cutter
  return new Uint8Array(b);
}

// The printer the officer picked last (the browser remembers permitted serial ports).
let chosen = null;

async function sendSerial(bytes) {
  let port = chosen && chosen.kind === "serial" ? chosen.port : null;
  if (!port) {
    const ports = await navigator.serial.getPorts();
    port = ports[0] || (await navigator.serial.requestPort());
  }
  if (!port.readable) await port.open({ baudRate: 9600 });
  const w = port.writable.getWriter();
  try {
    await w.write(bytes);
  } finally {
    w.releaseLock();
  }
  chosen = { kind: "serial", port };
}

// Common BLE printer services (the cheap 58 mm ones expose one of these).
const SERVICES = [
  "000018f0-0000-1000-8000-00805f9b34fb",
  "e7810a71-73ae-499d-8c15-faa9aef0c3f2",
  "49535343-fe7d-4ae5-8fa9-9fafd205e455",
];

async function sendBluetooth(bytes) {
  let ch = chosen && chosen.kind === "ble" ? chosen.ch : null;
  if (!ch) {
    const dev = await navigator.bluetooth.requestDevice({
      acceptAllDevices: true,
      optionalServices: SERVICES,
    });
    const server = await dev.gatt.connect();
    for (const s of SERVICES) {
      try {
        const svc = await server.getPrimaryService(s);
        for (const c of await svc.getCharacteristics()) {
          if (c.properties.write || c.properties.writeWithoutResponse) {
            ch = c;
            break;
          }
        }
      } catch (_) {
        // not this service
      }
      if (ch) break;
    }
    if (!ch) throw new Error("no printer service on this device");
  }
  for (let i = 0; i < bytes.length; i += 180) {
    await ch.writeValueWithoutResponse(bytes.subarray(i, i + 180));
  }
  chosen = { kind: "ble", ch };
}

// Prints: Web Serial where the browser has it, else Web Bluetooth.
export async function print(bytes, how) {
  if (how === "ble" || (!how && !("serial" in navigator))) {
    if (!("bluetooth" in navigator)) throw new Error("this browser cannot reach a printer");
    return sendBluetooth(bytes);
  }
  return sendSerial(bytes);
}
