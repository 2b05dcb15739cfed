//! A small WebDriver client (W3C protocol over HTTP) driving Debian's headless Chromium through
//! chromedriver, for the browser tests. chromedriver is started on a free port per browser and
//! killed on drop; Chromium gets a fresh profile directory.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver close Chromium; killing only chromedriver would
        // leave each test's Chromium running, orphaned, until the machine runs out of memory.
        // Drop cannot await, so this is one plain blocking HTTP request.
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://").to_string();
        if let Ok(mut c) = std::net::TcpStream::connect(&addr) {
            let _ = c.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let _ = write!(
                c,
                "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = c.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Element<'a> {
    b: &'a Browser,
    id: String,
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver (Debian chromium-driver; scripts/ensure-debian-packages installs it)",
        );
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        // chromedriver answers /status once it listens.
        let mut ready = false;
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.status().is_success() {
                    ready = true;
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not start");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--window-size=1280,900",
                ]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Browser {
            http,
            base,
            session,
            driver,
            _profile: profile,
        }
    }

    async fn try_cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut rq = self.http.request(method, url);
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let v: Value = rq.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            return Err(v["value"].clone());
        }
        Ok(v["value"].clone())
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits (up to 10 s) for the address to contain `part`: form posts navigate asynchronously.
    pub async fn wait_url(&self, part: &str) {
        for _ in 0..200 {
            if self.url().await.contains(part) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "never reached {part}: at {} showing {}",
            self.url().await,
            self.text().await
        );
    }

    /// Finds an element, waiting (up to 10 s) for it to appear: after a click that navigates, the
    /// next page may still be loading.
    pub async fn find(&self, css: &str) -> Element<'_> {
        for _ in 0..200 {
            match self
                .try_cmd(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await
            {
                Ok(v) => {
                    return Element {
                        b: self,
                        id: v[ELEMENT].as_str().unwrap().to_string(),
                    }
                }
                Err(e) if e["error"] == "no such element" => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("WebDriver /element {css}: {e}"),
            }
        }
        panic!(
            "never found {css}: at {} showing {}",
            self.url().await,
            self.text().await
        );
    }

    /// Waits (up to 10 s) until a script returns `want` (e.g. the page's direction after a click).
    pub async fn wait_script(&self, script: &str, want: &str) {
        for _ in 0..200 {
            let got = self
                .try_cmd(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({"script": script, "args": []})),
                )
                .await;
            if got.is_ok_and(|v| v == want) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{script} never returned {want}: at {} showing {}",
            self.url().await,
            self.text().await
        );
    }

    /// The page's visible text (read by script, so a page being replaced is never "stale").
    pub async fn text(&self) -> String {
        // A page being replaced can refuse scripts for a moment; that reads as no text yet.
        self.try_cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return document.body ? document.body.innerText : ''", "args": []})),
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
    }

    /// Waits (up to 10 s) until `check` holds for the page's text.
    pub async fn wait_text(&self, what: &str, check: impl Fn(&str) -> bool) {
        for _ in 0..200 {
            if check(&self.text().await) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "waited for {what}: at {} showing {}",
            self.url().await,
            self.text().await
        );
    }

    pub async fn script(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs a DevTools protocol command in the page (network conditions, geolocation,
    /// permissions) through chromedriver.
    #[allow(dead_code)]
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
        .await
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Saves a PNG of the page to `target/browser-screenshots/<name>.png` for people to look at.
    pub async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/browser-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Element<'_> {
    pub async fn click(&self) {
        self.b
            .cmd(
                reqwest::Method::POST,
                &format!("/element/{}/click", self.id),
                Some(json!({})),
            )
            .await;
    }

    pub async fn type_text(&self, text: &str) {
        self.b
            .cmd(
                reqwest::Method::POST,
                &format!("/element/{}/value", self.id),
                Some(json!({ "text": text })),
            )
            .await;
    }

    pub async fn text(&self) -> String {
        self.b
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/text", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}
