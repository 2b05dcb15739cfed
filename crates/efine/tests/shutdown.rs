//! `efine serve` stops cleanly on SIGTERM: it stops accepting, finishes what is in flight (an
//! open live-statistics stream included), stops its background jobs and exits 0, saying so in its
//! log. On SQLite.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_its_jobs_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(EFINE)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("EFINE_DATABASE_URL")
        .env("EFINE_DATA_DIR", dir.path())
        .env("EFINE_LOG", "info")
        .env("NO_COLOR", "1")
        // Rounds every second, so the jobs are between or inside rounds when the signal comes.
        .env("EFINE_NOTIFY_EVERY_SECONDS", "1")
        .env("EFINE_ESCALATION_MINUTES", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    // A dashboard watching the live figures: an answer that never ends by itself.
    let http = reqwest::Client::new();
    let mut live = http
        .get(format!("{url}/api/v1/stats/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let first = live.chunk().await.unwrap().unwrap_or_default();
    assert!(String::from_utf8_lossy(&first).contains("change"));
    // Let the notification job run a few rounds.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // The stream ends rather than holding the shutdown open.
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(_)) = live.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream did not end");

    // Generous guard: the bound on the jobs is 30 s.
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("efine serve did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = log.join().unwrap();
    assert!(status.success(), "exit status {status:?}; log:\n{log}");
    assert!(log.contains("shutting down"), "log:\n{log}");
    assert!(log.contains("background jobs stopped"), "log:\n{log}");
    assert!(!log.contains("did not stop in time"), "log:\n{log}");
}
