//! Request durations by route, as the server measures them (the HTTP API's
//! `vesting_http_request_duration_seconds` histogram): fixed buckets, lock-free counting
//! once a route has its histogram, and the Prometheus text exposition.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (`+Inf` follows).
pub const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

/// One route's histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Requests at or under each bound (not cumulative; the exposition sums them), and
    /// the ones over the last bound.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Requests counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The counts now (benchmarks take one before and one after a run).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
        }
    }
}

/// A histogram's counts at one moment (per bucket, not cumulative; the last is `+Inf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub counts: Vec<u64>,
    pub sum_nanos: u64,
}

impl Snapshot {
    /// What was counted between `earlier` and this one.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            counts: self
                .counts
                .iter()
                .enumerate()
                .map(|(i, c)| c - earlier.counts.get(i).copied().unwrap_or(0))
                .collect(),
            sum_nanos: self.sum_nanos - earlier.sum_nanos,
        }
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Mean seconds per request.
    pub fn mean(&self) -> f64 {
        self.sum_nanos as f64 / 1e9 / self.count().max(1) as f64
    }

    /// The `q` quantile in seconds, interpolated linearly inside its bucket as Prometheus'
    /// `histogram_quantile` does (the last finite bound when it falls in `+Inf`).
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return 0.0;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            if (below + c) as f64 >= rank && *c > 0 {
                let Some(hi) = BUCKETS.get(i) else {
                    return BUCKETS[BUCKETS.len() - 1];
                };
                let lo = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
                return lo + (hi - lo) * (rank - below as f64) / *c as f64;
            }
            below += c;
        }
        BUCKETS[BUCKETS.len() - 1]
    }
}

/// Histograms by route (the route's pattern, e.g. `/miners/{hotkey}`: a bounded set).
#[derive(Debug, Default)]
pub struct RequestDurations {
    routes: RwLock<BTreeMap<String, Arc<Histogram>>>,
}

impl RequestDurations {
    /// Counts one request to `route` that took `d`.
    pub fn observe(&self, route: &str, d: Duration) {
        let found = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .cloned();
        let h = match found {
            Some(h) => h,
            None => self
                .routes
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(route.to_string())
                .or_default()
                .clone(),
        };
        h.observe(d);
    }

    /// A route's histogram, if it was requested.
    pub fn route(&self, route: &str) -> Option<Arc<Histogram>> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .cloned()
    }

    /// The Prometheus text exposition of every route's histogram under `name`.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let routes = self.routes.read().unwrap_or_else(|e| e.into_inner());
        for (route, h) in routes.iter() {
            let route = route.replace('\\', "\\\\").replace('"', "\\\"");
            let mut cumulative = 0;
            for (i, c) in h.counts.iter().enumerate() {
                cumulative += c.load(Ordering::Relaxed);
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "{name}_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_sum{{route=\"{route}\"}} {:.9}\n{name}_count{{route=\"{route}\"}} {cumulative}",
                h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_count_every_request() {
        let d = RequestDurations::default();
        d.observe("/a", Duration::from_micros(50));
        d.observe("/a", Duration::from_micros(700));
        d.observe("/a", Duration::from_secs(20));
        d.observe("/b", Duration::from_millis(4));
        let mut out = String::new();
        d.render("x", "help", &mut out);
        assert!(out.contains("# TYPE x histogram"), "{out}");
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"0.0001\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"0.001\"} 2"),
            "{out}"
        );
        assert!(out.contains("x_bucket{route=\"/a\",le=\"10\"} 2"), "{out}");
        assert!(
            out.contains("x_bucket{route=\"/a\",le=\"+Inf\"} 3"),
            "{out}"
        );
        assert!(out.contains("x_count{route=\"/a\"} 3"), "{out}");
        assert!(
            out.contains("x_bucket{route=\"/b\",le=\"0.003\"} 0"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"/b\",le=\"0.005\"} 1"),
            "{out}"
        );
        assert_eq!(d.route("/a").unwrap().count(), 3);
        let b = d.route("/b").unwrap();
        let before = b.snapshot();
        for _ in 0..99 {
            b.observe(Duration::from_micros(1500));
        }
        let run = b.snapshot().since(&before);
        assert_eq!(run.count(), 99);
        // All in (0.001, 0.002]: the median interpolates to the bucket's middle.
        assert!(
            (run.quantile(0.5) - 0.0015).abs() < 1e-9,
            "{}",
            run.quantile(0.5)
        );
        assert!((run.mean() - 0.0015).abs() < 1e-9);
    }
}
