// The phone's store (IndexedDB): the device and its key (the private key is a
// non-extractable CryptoKey, kept as such), the cached catalogue, and the outbox of
// challans, each kept until the server has answered for it and never deleted by sign-out.

const NAME = "efine-officer";

function open() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(NAME, 1);
    r.onupgradeneeded = () => {
      const db = r.result;
      db.createObjectStore("kv");
      db.createObjectStore("outbox", { keyPath: "counter" });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

let dbp = null;
function db() {
  if (!dbp) dbp = open();
  return dbp;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export async function get(key) {
  const tx = (await db()).transaction("kv");
  return req(tx.objectStore("kv").get(key));
}

export async function put(key, value) {
  const tx = (await db()).transaction("kv", "readwrite");
  tx.objectStore("kv").put(value, key);
  return done(tx);
}

// Allocates the next counter and stores the challan under it in one transaction, so a
// counter is never handed out twice nor lost between the two.
export async function issue(build) {
  const d = await db();
  const last = (await req(d.transaction("kv").objectStore("kv").get("counter"))) || 0;
  const counter = last + 1;
  const record = await build(counter);
  const tx = d.transaction(["kv", "outbox"], "readwrite");
  const kv = tx.objectStore("kv");
  const now = (await req(kv.get("counter"))) || 0;
  if (now !== last) {
    tx.abort();
    throw new Error("another challan was issued at the same moment: try again");
  }
  kv.put(counter, "counter");
  tx.objectStore("outbox").add(record);
  await done(tx);
  return record;
}

export async function all() {
  const tx = (await db()).transaction("outbox");
  return req(tx.objectStore("outbox").getAll());
}

export async function update(record) {
  const tx = (await db()).transaction("outbox", "readwrite");
  tx.objectStore("outbox").put(record);
  return done(tx);
}
