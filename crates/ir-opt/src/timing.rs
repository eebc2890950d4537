//! `ir-opt run --warmup W --iterations N`: a trtexec-style latency summary.
//!
//! Percentiles use the nearest-rank definition (the smallest sample with at least p% of the
//! samples at or below it), as trtexec does, so every reported number is a measured latency
//! and not an interpolation between two runs.

use std::fmt;
use std::time::Duration;

/// Latency statistics over the timed iterations of one program.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingSummary {
    /// Untimed runs before the timed ones.
    pub warmup: usize,
    /// Timed runs.
    pub iterations: usize,
    /// Fastest run, milliseconds.
    pub min_ms: f64,
    /// Arithmetic mean, milliseconds.
    pub mean_ms: f64,
    /// 50th percentile (nearest rank), milliseconds.
    pub median_ms: f64,
    /// 90th percentile (nearest rank), milliseconds.
    pub p90_ms: f64,
    /// 99th percentile (nearest rank), milliseconds.
    pub p99_ms: f64,
    /// Slowest run, milliseconds.
    pub max_ms: f64,
    /// Forwards per second over the whole timed span (iterations / sum of latencies).
    pub throughput_per_s: f64,
}

impl TimingSummary {
    /// Summarises `samples` (one per timed run). `None` when there are no samples.
    pub fn new(warmup: usize, samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let total: f64 = ms.iter().sum();
        let n = ms.len();
        let rank = |p: f64| -> f64 {
            // Nearest rank: ceil(p/100 * n), 1-based, at least 1.
            let r = ((p / 100.0) * n as f64).ceil() as usize;
            ms[r.clamp(1, n) - 1]
        };
        Some(TimingSummary {
            warmup,
            iterations: n,
            min_ms: ms[0],
            mean_ms: total / n as f64,
            median_ms: rank(50.0),
            p90_ms: rank(90.0),
            p99_ms: rank(99.0),
            max_ms: ms[n - 1],
            throughput_per_s: if total > 0.0 {
                n as f64 / (total / 1e3)
            } else {
                f64::INFINITY
            },
        })
    }
}

impl fmt::Display for TimingSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "timing: {} warm-up run(s), {} timed run(s)",
            self.warmup, self.iterations
        )?;
        writeln!(
            f,
            "latency: min = {:.3} ms, mean = {:.3} ms, median = {:.3} ms, \
             p90 = {:.3} ms, p99 = {:.3} ms, max = {:.3} ms",
            self.min_ms, self.mean_ms, self.median_ms, self.p90_ms, self.p99_ms, self.max_ms
        )?;
        writeln!(f, "throughput: {:.2} qps", self.throughput_per_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles_on_one_to_ten() {
        // Shuffled 1..=10 ms: nearest-rank p50 is the 5th value, p90 the 9th, p99 the 10th.
        let s = TimingSummary::new(2, &ms(&[7, 3, 10, 1, 9, 2, 8, 4, 6, 5])).unwrap();
        assert_eq!(s.warmup, 2);
        assert_eq!(s.iterations, 10);
        assert_eq!(s.min_ms, 1.0);
        assert_eq!(s.median_ms, 5.0);
        assert_eq!(s.p90_ms, 9.0);
        assert_eq!(s.p99_ms, 10.0);
        assert_eq!(s.max_ms, 10.0);
        assert!((s.mean_ms - 5.5).abs() < 1e-12);
        // 10 runs in 55 ms.
        assert!((s.throughput_per_s - 10.0 / 0.055).abs() < 1e-9);
    }

    #[test]
    fn one_sample_is_every_statistic() {
        let s = TimingSummary::new(0, &ms(&[4])).unwrap();
        for v in [
            s.min_ms,
            s.median_ms,
            s.p90_ms,
            s.p99_ms,
            s.max_ms,
            s.mean_ms,
        ] {
            assert_eq!(v, 4.0);
        }
        assert!((s.throughput_per_s - 250.0).abs() < 1e-9);
    }

    #[test]
    fn no_samples_no_summary() {
        assert_eq!(TimingSummary::new(3, &[]), None);
    }

    #[test]
    fn summary_text() {
        let s = TimingSummary::new(1, &ms(&[2, 4])).unwrap();
        assert_eq!(
            s.to_string(),
            "timing: 1 warm-up run(s), 2 timed run(s)\n\
             latency: min = 2.000 ms, mean = 3.000 ms, median = 2.000 ms, p90 = 4.000 ms, \
             p99 = 4.000 ms, max = 4.000 ms\n\
             throughput: 333.33 qps\n"
        );
    }
}
