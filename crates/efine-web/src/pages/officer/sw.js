// The field app's service worker: the app shell comes from the cache, so the app opens
// with no network; the API always goes to the network (the outbox is in IndexedDB).
const VERSION = "__VERSION__";
const CACHE = "efine-officer-" + VERSION;
const SHELL = [
  "/officer",
  "/officer/app.js",
  "/officer/db.js",
  "/officer/sign.js",
  "/officer/escpos.js",
  "/officer/i18n.js",
  "/officer/app.css",
  "/officer/manifest.webmanifest",
  "/officer/icon.svg",
];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("efine-officer-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/v1/devices/") && url.pathname.endsWith("/catalogue")) {
    // The catalogue: fresh when online, the last copy when not.
    ev.respondWith(
      fetch(ev.request)
        .then((r) => {
          const copy = r.clone();
          caches.open(CACHE).then((c) => c.put(ev.request, copy));
          return r;
        })
        .catch(() => caches.match(ev.request)),
    );
    return;
  }
  const path = url.pathname === "/officer/" ? "/officer" : url.pathname;
  if (!SHELL.includes(path)) return;
  ev.respondWith(caches.match(path).then((hit) => hit || fetch(ev.request)));
});
