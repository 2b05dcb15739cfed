// The officer's field app: enrol the phone, issue challans with no network, keep them in an
// outbox, sync them, print the slip. Plain ES modules, no framework, no build step.

import * as db from "./db.js";
import * as sign from "./sign.js";
import * as escpos from "./escpos.js";
import { T } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const state = { lang: "en", device: null, pair: null, catalogue: null, position: null, photos: [], last: null };
// What the tests read: the bytes of the last slip built, and the app's state.
window.efine = { lastSlip: null, state, syncs: 0 };

function t(key, args = {}) {
  let s = (T[state.lang] || T.en)[key] || T.en[key] || key;
  for (const [k, v] of Object.entries(args)) s = s.replace("{" + k + "}", v);
  return s;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function show(id) {
  for (const s of document.querySelectorAll("main > section")) {
    s.hidden = !(s.id === id || (id === "issue" && s.id === "check"));
  }
}

function applyLang() {
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === "ur" ? "rtl" : "ltr";
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  $("lang").textContent = t("lang");
  netState();
  renderOffences();
  renderList();
}

function netState() {
  const on = navigator.onLine;
  $("net").textContent = on ? t("online") : t("offline");
  $("net").className = on ? "net on" : "net off";
}

function offenceName(o) {
  return state.lang === "ur" ? o.name_ur : o.name_en;
}

function renderOffences() {
  const sel = $("offence");
  const keep = sel.value || (state.last && state.last.offence);
  sel.replaceChildren();
  for (const o of (state.catalogue && state.catalogue.offences) || []) {
    sel.append(el("option", { value: o.code }, `${offenceName(o)} – ${sign.rupees(o.amount)}`));
  }
  if (keep) sel.value = keep;
}

function localTime(ms) {
  const d = new Date(ms + 5 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

function dueDate(ms, days) {
  const d = new Date(ms + 5 * 3600 * 1000 + days * 86400 * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
}

async function renderList() {
  const ul = $("list");
  if (!ul) return;
  const all = (await db.all()).sort((a, b) => b.counter - a.counter);
  const today = localTime(Date.now()).slice(0, 10);
  const mine = all.filter((r) => localTime(r.issued_at_ms).slice(0, 10) === today || r.state !== "synced");
  ul.replaceChildren();
  for (const r of mine) {
    const li = el(
      "li",
      { "data-counter": r.counter, "data-state": r.state, class: "item " + r.state },
      el("span", { class: "num" }, r.number),
      el("span", {}, " " + sign.rupees(r.amount_paisa) + " · " + (r.vehicle || "") + " "),
      el("strong", { class: "state" }, t(r.state)),
    );
    if (r.state === "refused") {
      // The server's reason, in the officer's language where the app knows the code.
      const key = "refused_" + r.code;
      const known = T.en[key] !== undefined;
      li.append(el("p", { class: "reason" }, known ? t(key) : r.reason || ""));
    }
    const again = el("button", { type: "button", class: "secondary small" }, t("reprint"));
    again.addEventListener("click", () => printRecord(r));
    li.append(again);
    ul.append(li);
  }
  if (!mine.length) ul.append(el("li", {}, t("none_today")));
  const waiting = all.filter((r) => r.state === "waiting").length;
  $("waiting").textContent = waiting ? `${waiting} ${t("waiting")}` : "";
  $("kept").textContent = waiting ? t("unsynced_kept", { n: waiting }) : "";
}

// --- enrolment -------------------------------------------------------------------------

async function enrol(ev) {
  ev.preventDefault();
  const msg = $("enrol-msg");
  if (!navigator.onLine) {
    msg.textContent = t("need_network");
    return;
  }
  msg.textContent = t("enrolling");
  try {
    const pair = await sign.makeKey();
    const pub = await sign.publicKeyBytes(pair);
    const r = await fetch("/api/v1/devices/enrol", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: $("code").value, public_key: sign.b64url(pub) }),
    });
    const body = await r.json();
    if (!r.ok) {
      msg.textContent = (body.error && body.error.message) || r.statusText;
      return;
    }
    const kid = await sign.keyId(pub);
    const device = { ...body, kid_bytes: Array.from(kid) };
    delete device.offences;
    await db.put("pair", pair);
    await db.put("device", device);
    await db.put("catalogue", { version: body.catalogue_version, offences: body.offences });
    await db.put("signed_in", true);
    msg.textContent = "";
    await start();
  } catch (e) {
    msg.textContent = String(e);
  }
}

// --- position and photos ----------------------------------------------------------------

function locate() {
  state.position = null;
  $("gps").textContent = t("locating");
  if (!("geolocation" in navigator)) {
    $("gps").textContent = t("no_position");
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => {
      state.position = {
        lat_micro: Math.round(p.coords.latitude * 1e6),
        lon_micro: Math.round(p.coords.longitude * 1e6),
        accuracy_m: Math.round(p.coords.accuracy),
      };
      $("gps").textContent =
        `${p.coords.latitude.toFixed(5)}, ${p.coords.longitude.toFixed(5)} ±${Math.round(p.coords.accuracy)} m`;
    },
    () => ($("gps").textContent = t("no_position")),
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
  );
}

// A photo made small on the phone: at most 1280 px on its long side, JPEG.
async function compress(file) {
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 1280 / Math.max(bmp.width, bmp.height));
  const c = document.createElement("canvas");
  c.width = Math.max(1, Math.round(bmp.width * scale));
  c.height = Math.max(1, Math.round(bmp.height * scale));
  c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
  const blob = await new Promise((res) => c.toBlob(res, "image/jpeg", 0.6));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return {
    content_type: "image/jpeg",
    data: sign.b64(bytes),
    sha256: sign.hex(await sign.sha256(bytes)),
    preview: c.toDataURL("image/jpeg", 0.4),
  };
}

async function takePhotos() {
  const files = Array.from($("photo").files || []).slice(0, 3 - state.photos.length);
  for (const f of files) state.photos.push(await compress(f));
  $("photo").value = "";
  const box = $("previews");
  box.replaceChildren(...state.photos.map((p) => el("img", { src: p.preview, alt: "", class: "thumb" })));
  $("photo").disabled = state.photos.length >= 3;
}

// --- issuing ------------------------------------------------------------------------------

async function issue(ev) {
  ev.preventDefault();
  const msg = $("issue-msg");
  const o = state.catalogue.offences.find((x) => x.code === $("offence").value);
  if (!o) return;
  const btn = $("issue-btn");
  btn.disabled = true;
  msg.textContent = t("wait");
  try {
    const dev = state.device;
    const photos = state.photos;
    const pos = state.position || {};
    const rec = await db.issue(async (counter) => {
      const issued_at_ms = Date.now();
      const number = sign.challanNumber(dev, counter, issued_at_ms);
      const token = await sign.challanToken(state.pair, Uint8Array.from(dev.kid_bytes), {
        number,
        amount_paisa: o.amount,
        department: dev.department,
        district: dev.district,
        issued_at_ms,
      });
      const item = {
        counter,
        number,
        issued_at_ms,
        offence: o.code,
        amount_paisa: o.amount,
        vehicle: $("vehicle").value.trim() || null,
        mobile: $("mobile").value.trim() || null,
        lat_micro: pos.lat_micro ?? null,
        lon_micro: pos.lon_micro ?? null,
        accuracy_m: pos.accuracy_m ?? null,
        place: $("place").value.trim() || null,
        notes: null,
        photos: photos.map((p) => p.sha256),
        token,
      };
      const body = JSON.stringify(item);
      return {
        counter,
        number,
        psid: sign.psid(dev, counter, issued_at_ms),
        issued_at_ms,
        amount_paisa: o.amount,
        offence: o.code,
        offence_name_en: o.name_en,
        offence_name_ur: o.name_ur,
        due_date: dueDate(issued_at_ms, o.days_to_pay),
        vehicle: item.vehicle,
        place: item.place,
        token,
        body,
        signature: await sign.signItem(state.pair, body),
        photos: photos.map((p) => ({ content_type: p.content_type, data: p.data })),
        state: "waiting",
      };
    });
    state.last = rec;
    // The next driver is another: the place and the offence stay for "issue another".
    $("vehicle").value = "";
    $("mobile").value = "";
    state.photos = [];
    $("previews").replaceChildren();
    $("photo").disabled = false;
    msg.textContent = "";
    showIssued(rec);
    await renderList();
    if (navigator.onLine) sync();
  } catch (e) {
    msg.textContent = String(e);
  } finally {
    btn.disabled = false;
  }
}

function showIssued(r) {
  $("issued-number").textContent = r.number;
  $("issued-amount").textContent = sign.rupees(r.amount_paisa);
  $("issued-psid").textContent = r.psid;
  $("issued-due").textContent = r.due_date;
  buildSlip(r);
  show("done");
}

function buildSlip(r) {
  const dev = state.device;
  const bytes = escpos.slip({
    department_name: dev.department_name_en,
    district_name: dev.district_name_en,
    number: r.number,
    psid: r.psid,
    offence_name: r.offence_name_en,
    offence_name_ur: r.offence_name_ur,
    amount_display: sign.rupees(r.amount_paisa),
    due_date: r.due_date,
    issued_local: localTime(r.issued_at_ms),
    officer: dev.officer,
    vehicle: r.vehicle,
    place: r.place,
    public_url: dev.public_url,
    verify_url: dev.public_url + "/v/" + r.token,
    synced: r.state === "synced",
    device: dev.device,
  });
  window.efine.lastSlip = sign.b64(bytes);
  return bytes;
}

async function printRecord(r, how) {
  const bytes = buildSlip(r);
  const msg = $("print-msg");
  try {
    await escpos.print(bytes, how);
    msg.textContent = t("printed");
  } catch (e) {
    msg.textContent = t("print_failed", { error: e.message || String(e) });
  }
}

function saveSlip() {
  const bytes = buildSlip(state.last);
  const a = el("a", {
    href: "data:application/octet-stream;base64," + sign.b64(bytes),
    download: state.last.number + ".bin",
  });
  document.body.append(a);
  a.click();
  a.remove();
}

// --- vehicle check (online) ---------------------------------------------------------------

async function checkVehicle(ev) {
  ev.preventDefault();
  const out = $("check-result");
  out.textContent = t("wait");
  try {
    const body = JSON.stringify({ vehicle: $("check-plate").value.trim(), at_ms: Date.now() });
    const r = await fetch(`/api/v1/devices/${encodeURIComponent(state.device.device)}/vehicle-check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ body, signature: await sign.signCheck(state.pair, body) }),
    });
    const v = await r.json();
    if (!r.ok) {
      out.textContent = (v.error && v.error.message) || r.statusText;
      return;
    }
    out.textContent =
      t("unpaid_total", { n: v.unpaid_count, total: v.total_due_display }) +
      (v.stage ? " · " + t("stage", { stage: v.stage }) : "") +
      " · " + v.recommended_action;
  } catch (_) {
    out.textContent = t("check_needs_network");
  }
}

// --- sync -----------------------------------------------------------------------------------

let syncing = null;

export async function sync() {
  if (syncing) return syncing;
  syncing = doSync().finally(() => (syncing = null));
  return syncing;
}

async function doSync() {
  if (!state.device) return;
  const btn = $("sync-btn");
  btn.disabled = true;
  btn.textContent = t("syncing");
  try {
    const waiting = (await db.all()).filter((r) => r.state === "waiting").sort((a, b) => a.counter - b.counter);
    for (let i = 0; i < waiting.length; i += 5) {
      const chunk = waiting.slice(i, i + 5);
      const r = await fetch(`/api/v1/devices/${encodeURIComponent(state.device.device)}/sync`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          items: chunk.map((x) => ({ body: x.body, signature: x.signature, photos: x.photos })),
        }),
      });
      if (!r.ok) break;
      const res = await r.json();
      for (let k = 0; k < chunk.length; k++) {
        const rec = chunk[k];
        const ans = res.results[k];
        if (!ans) continue;
        if (ans.status === "accepted" || ans.status === "already_had") {
          rec.state = "synced";
          rec.psid = ans.psid || rec.psid;
          rec.synced_at_ms = Date.now();
        } else {
          rec.state = "refused";
          rec.code = ans.code;
          rec.reason = ans.reason;
        }
        await db.update(rec);
      }
      $("revoked").hidden = !res.revoked;
      if (state.catalogue && res.catalogue_version !== state.catalogue.version) await refreshCatalogue();
    }
    window.efine.syncs += 1;
  } catch (_) {
    // No network: the outbox waits for the next chance.
  } finally {
    btn.disabled = false;
    btn.textContent = t("sync");
    await renderList();
  }
}

async function refreshCatalogue() {
  const r = await fetch(`/api/v1/devices/${encodeURIComponent(state.device.device)}/catalogue`);
  if (!r.ok) return;
  const c = await r.json();
  state.catalogue = { version: c.catalogue_version, offences: c.offences };
  await db.put("catalogue", state.catalogue);
  renderOffences();
}

// --- start ----------------------------------------------------------------------------------

async function signOut() {
  await db.put("signed_in", false);
  await start();
}

async function start() {
  state.device = (await db.get("device")) || null;
  state.pair = (await db.get("pair")) || null;
  state.catalogue = (await db.get("catalogue")) || null;
  const all = await db.all();
  state.last = all.sort((a, b) => b.counter - a.counter)[0] || null;
  // The day's list and sync are for a signed-in officer only.
  $("day").hidden = true;
  if (!state.device || !state.pair) {
    show("enrol");
    return;
  }
  $("who").textContent = `${state.device.officer} · ${state.device.device}`;
  if (!(await db.get("signed_in"))) {
    $("continue").textContent = t("continue_as", { officer: state.device.officer });
    await renderList();
    show("signedout");
    return;
  }
  renderOffences();
  show("issue");
  $("day").hidden = false;
  locate();
  await renderList();
  if (navigator.onLine) sync();
}

function init() {
  const q = new URLSearchParams(location.search).get("lang");
  state.lang = q === "ur" || q === "en" ? q : localStorage.getItem("efine-lang") || "en";
  applyLang();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "ur" : "en";
    localStorage.setItem("efine-lang", state.lang);
    applyLang();
  });
  $("enrol-form").addEventListener("submit", enrol);
  $("issue-form").addEventListener("submit", issue);
  $("check-form").addEventListener("submit", checkVehicle);
  $("photo").addEventListener("change", takePhotos);
  $("gps-btn").addEventListener("click", locate);
  $("sync-btn").addEventListener("click", () => sync());
  $("another").addEventListener("click", () => {
    show("issue");
    renderOffences();
    locate();
  });
  $("print-serial").addEventListener("click", () => printRecord(state.last, "serial"));
  $("print-ble").addEventListener("click", () => printRecord(state.last, "ble"));
  $("reprint").addEventListener("click", () => printRecord(state.last));
  $("save-slip").addEventListener("click", saveSlip);
  $("signout").addEventListener("click", signOut);
  $("continue").addEventListener("click", async () => {
    await db.put("signed_in", true);
    await start();
  });
  window.addEventListener("online", () => {
    netState();
    sync();
  });
  window.addEventListener("offline", netState);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/officer/sw.js", { scope: "/officer" });
  window.efine.sync = sync;
  window.efine.ready = start().then(() => true);
}

init();
