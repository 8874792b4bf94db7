//! Per-command latency histograms (INFO latencystats, `latency-tracking`), in the spirit of
//! the HDR histogram Redis uses: log-linear buckets with 3 significant bits of precision per
//! power of two, from 1 µs to about 1 hour.

use std::fmt::Write;

use crate::server::Server;

const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
const MAJORS: usize = 42;

/// Counts of command durations (in ns) by log-linear bucket.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; MAJORS * SUB]>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: Box::new([0; MAJORS * SUB]), total: 0 }
    }
}

fn bucket_of(ns: u64) -> usize {
    let v = ns.max(1);
    let major = 63 - v.leading_zeros();
    if major < SUB_BITS {
        return v as usize;
    }
    let shift = major - SUB_BITS;
    let sub = ((v >> shift) as usize) & (SUB - 1);
    (((major - SUB_BITS + 1) as usize) * SUB + sub).min(MAJORS * SUB - 1)
}

/// The highest value a bucket holds.
fn bucket_high(index: usize) -> u64 {
    let major = index / SUB;
    let sub = (index % SUB) as u64;
    if major == 0 {
        return sub;
    }
    let shift = major as u32 - 1;
    ((SUB as u64 + sub + 1) << shift) - 1
}

impl Histogram {
    pub fn record(&mut self, ns: u64) {
        self.counts[bucket_of(ns)] += 1;
        self.total += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The value at percentile `p` (0-100), in ns.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let wanted = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= wanted {
                return bucket_high(i);
            }
        }
        bucket_high(self.counts.len() - 1)
    }
}

/// Appends the latencystats lines for every command with samples.
pub fn info_latencystats(srv: &Server, out: &mut String) {
    let percentiles = srv.config.latency_percentiles().to_vec();
    let mut cmds: Vec<_> =
        srv.commands.iter_all().filter(|c| srv.latency.get(c.id).is_some_and(|h| !h.is_empty())).collect();
    cmds.sort_by_key(|c| c.fullname);
    for c in cmds {
        let h = &srv.latency[c.id];
        let _ = write!(out, "latency_percentiles_usec_{}:", c.fullname);
        for (i, p) in percentiles.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "p{}={:.3}", crate::util::num::format_percentile(*p), h.percentile(*p) as f64 / 1000.0);
        }
        out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_precision() {
        let mut h = Histogram::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.percentile(50.0) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.07, "{p50}");
        let p99 = h.percentile(99.0) as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.07, "{p99}");
        assert!(bucket_high(bucket_of(12345)) >= 12345);
    }
}
