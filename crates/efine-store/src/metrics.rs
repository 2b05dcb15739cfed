//! Operational figures in the Prometheus text format (version 0.0.4): a few small types that
//! count in memory, and the writer's own figures.
//!
//! They live here because the store is the lowest crate that runs anything: the writer counts
//! its batches with them, and the service and web layers use the same types for theirs
//! (requests, rail errors, deliveries). Figures are per process and start at zero; a scraper
//! sums over nodes. Label values are always from a closed set chosen by the code (a route
//! template, a rail, a status), never from what a request carried.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Counters keyed by label values (one counter when there are no labels).
pub struct Counters {
    labels: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl Counters {
    pub const fn new(labels: &'static [&'static str]) -> Counters {
        Counters {
            labels,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds one to the counter of these label values (given in the order of `labels`).
    pub fn inc(&self, values: &[&str]) {
        self.add(values, 1);
    }

    pub fn add(&self, values: &[&str], n: u64) {
        debug_assert_eq!(values.len(), self.labels.len());
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        *lock(&self.values).entry(key).or_insert(0) += n;
    }

    /// The counter of these label values (0 if never counted).
    pub fn get(&self, values: &[&str]) -> u64 {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        lock(&self.values).get(&key).copied().unwrap_or(0)
    }

    /// Writes the family; with no labels, a counter at 0 is written before the first count.
    pub fn encode(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, help, "counter");
        let values = lock(&self.values);
        if values.is_empty() && self.labels.is_empty() {
            let _ = writeln!(out, "{name} 0");
        }
        for (key, n) in values.iter() {
            let _ = writeln!(out, "{name}{} {n}", labels(self.labels, key, None));
        }
    }
}

/// Histograms keyed by label values, with fixed bucket upper bounds.
pub struct Histograms {
    labels: &'static [&'static str],
    bounds: &'static [f64],
    values: Mutex<BTreeMap<Vec<String>, Buckets>>,
}

#[derive(Clone)]
struct Buckets {
    /// Observations at or below each bound (not cumulative here; summed when written).
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Seconds, for request latency and commit time: 0.5 ms to 10 s.
pub const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Operations per writer batch: 1 to the writer's maximum of 512.
pub const BATCH_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

impl Histograms {
    pub const fn new(labels: &'static [&'static str], bounds: &'static [f64]) -> Histograms {
        Histograms {
            labels,
            bounds,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn observe(&self, values: &[&str], x: f64) {
        debug_assert_eq!(values.len(), self.labels.len());
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let mut map = lock(&self.values);
        let b = map.entry(key).or_insert_with(|| Buckets {
            counts: vec![0; self.bounds.len()],
            sum: 0.0,
            count: 0,
        });
        if let Some(i) = self.bounds.iter().position(|&le| x <= le) {
            b.counts[i] += 1;
        }
        b.sum += x;
        b.count += 1;
    }

    pub fn observe_duration(&self, values: &[&str], d: Duration) {
        self.observe(values, d.as_secs_f64());
    }

    /// Observations made with these label values.
    pub fn count(&self, values: &[&str]) -> u64 {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        lock(&self.values).get(&key).map_or(0, |b| b.count)
    }

    /// Sum of the observations made with these label values.
    pub fn sum(&self, values: &[&str]) -> f64 {
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        lock(&self.values).get(&key).map_or(0.0, |b| b.sum)
    }

    pub fn encode(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, help, "histogram");
        let map = lock(&self.values);
        let empty = Buckets {
            counts: vec![0; self.bounds.len()],
            sum: 0.0,
            count: 0,
        };
        let rows: Vec<(Vec<String>, Buckets)> = if map.is_empty() && self.labels.is_empty() {
            vec![(Vec::new(), empty)]
        } else {
            map.iter().map(|(k, b)| (k.clone(), b.clone())).collect()
        };
        for (key, b) in rows {
            let mut cumulative = 0;
            for (le, n) in self.bounds.iter().zip(&b.counts) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {cumulative}",
                    labels(self.labels, &key, Some(&le.to_string()))
                );
            }
            let l = labels(self.labels, &key, None);
            let _ = writeln!(
                out,
                "{name}_bucket{} {}",
                labels(self.labels, &key, Some("+Inf")),
                b.count
            );
            let _ = writeln!(out, "{name}_sum{l} {}", b.sum);
            let _ = writeln!(out, "{name}_count{l} {}", b.count);
        }
    }
}

/// Writes one gauge family: each row is its label values and its value.
pub fn gauge(
    out: &mut String,
    name: &str,
    help: &str,
    label_names: &[&str],
    rows: &[(Vec<String>, f64)],
) {
    header(out, name, help, "gauge");
    for (key, v) in rows {
        let _ = writeln!(out, "{name}{} {v}", labels(label_names, key, None));
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(
        out,
        "# HELP {name} {}",
        help.replace('\\', "\\\\").replace('\n', "\\n")
    );
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{a="x",b="y"}` (with `le` last for a bucket), or nothing when there are no labels.
fn labels(names: &[&str], values: &[String], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The single writer's figures: how many operations wait for it, how many each batch took, and
/// how long each COMMIT (the fsync) took.
pub struct WriterMetrics {
    /// Operations submitted and not yet taken into a batch.
    queued: AtomicI64,
    pub batch_size: Histograms,
    pub commit_seconds: Histograms,
    /// Batches whose COMMIT failed (their operations were answered with the error).
    pub failed_commits: Counters,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        WriterMetrics {
            queued: AtomicI64::new(0),
            batch_size: Histograms::new(&[], BATCH_SIZES),
            commit_seconds: Histograms::new(&[], SECONDS),
            failed_commits: Counters::new(&[]),
        }
    }
}

impl WriterMetrics {
    pub(crate) fn submitted(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// A submitted operation never reached the writer (it had stopped).
    pub(crate) fn unsent(&self) {
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// The writer took `n` operations into a batch.
    pub(crate) fn batch(&self, n: usize) {
        self.queued.fetch_sub(n as i64, Ordering::Relaxed);
        self.batch_size.observe(&[], n as f64);
    }

    pub(crate) fn committed(&self, took: Duration, ok: bool) {
        self.commit_seconds.observe_duration(&[], took);
        if !ok {
            self.failed_commits.inc(&[]);
        }
    }

    /// Operations waiting for the writer now.
    pub fn queue_depth(&self) -> i64 {
        self.queued.load(Ordering::Relaxed).max(0)
    }

    pub fn encode(&self, out: &mut String) {
        gauge(
            out,
            "efine_writer_queue_depth",
            "Write operations waiting for the single writer.",
            &[],
            &[(Vec::new(), self.queue_depth() as f64)],
        );
        self.batch_size.encode(
            out,
            "efine_writer_batch_size",
            "Operations per writer batch (one transaction, one fsync).",
        );
        self.commit_seconds.encode(
            out,
            "efine_writer_commit_seconds",
            "Time of each batch's COMMIT, the fsync included.",
        );
        self.failed_commits.encode(
            out,
            "efine_writer_commit_failures_total",
            "Batches whose COMMIT failed.",
        );
    }
}

/// How the read connections are used just now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections the pool may hold.
    pub max: u32,
    /// Connections open now.
    pub open: u32,
    /// Open connections not lent out.
    pub idle: u32,
}

impl PoolUse {
    pub fn encode(&self, out: &mut String, backend: &str) {
        let b = backend.to_string();
        gauge(
            out,
            "efine_db_pool_connections",
            "Read connections by state (in_use, idle) and the pool's maximum (max).",
            &["backend", "state"],
            &[
                (
                    vec![b.clone(), "in_use".into()],
                    f64::from(self.open - self.idle.min(self.open)),
                ),
                (vec![b.clone(), "idle".into()], f64::from(self.idle)),
                (vec![b, "max".into()], f64::from(self.max)),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let c = Counters::new(&["route", "status"]);
        c.inc(&["/c/{number}", "200"]);
        c.inc(&["/c/{number}", "200"]);
        c.inc(&["a\"b", "404"]);
        let mut out = String::new();
        c.encode(&mut out, "x_total", "X.");
        assert!(out.contains("# TYPE x_total counter\n"), "{out}");
        assert!(
            out.contains("x_total{route=\"/c/{number}\",status=\"200\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_total{route=\"a\\\"b\",status=\"404\"} 1\n"),
            "{out}"
        );

        let h = Histograms::new(&[], &[1.0, 2.0]);
        h.observe(&[], 0.5);
        h.observe(&[], 1.5);
        h.observe(&[], 3.0);
        let mut out = String::new();
        h.encode(&mut out, "h", "H.");
        assert!(out.contains("h_bucket{le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("h_bucket{le=\"2\"} 2\n"), "{out}");
        assert!(out.contains("h_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("h_sum 5\n"), "{out}");
        assert!(out.contains("h_count 3\n"), "{out}");
        assert_eq!(h.count(&[]), 3);
    }

    #[test]
    fn empty_unlabelled_families_are_written_at_zero() {
        let mut out = String::new();
        Counters::new(&[]).encode(&mut out, "c_total", "C.");
        Histograms::new(&[], &[1.0]).encode(&mut out, "h", "H.");
        assert!(out.contains("c_total 0\n"), "{out}");
        assert!(out.contains("h_count 0\n"), "{out}");
    }
}
