//! Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM, `latency-tracking`).
//!
//! Redis keeps one HDR histogram per command (`hdr_init(1, 1_000_000_000, 2)`: values from
//! 1 ns to 1 s, two significant digits) and reports both INFO's percentiles and LATENCY
//! HISTOGRAM's cumulative distribution from it. The numbers users see depend on the exact
//! bucket boundaries, so this is the same layout: 256 sub-buckets per power of two (the first
//! bucket at unit resolution, each following one twice as coarse), 24 half-buckets of 128
//! counts. Counts are only allocated when a command first runs, as Redis allocates lazily.

use std::fmt::Write;

use crate::reply::Reply;
use crate::server::Server;

/// log2 of half the sub-bucket count: 2 significant digits need 200 distinct values → 256.
const HALF_MAGNITUDE: u32 = 7;
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = (2 * HALF_COUNT as u64) - 1;
/// Buckets needed to reach 1 s at this precision (256 << 22 > 1e9).
const BUCKETS: usize = 23;
const COUNTS: usize = (BUCKETS + 1) * HALF_COUNT;
const MIN_VALUE: u64 = 1;
const MAX_VALUE: u64 = 1_000_000_000;

/// Counts of command durations, in nanoseconds.
#[derive(Clone, Default)]
pub struct Histogram {
    counts: Option<Box<[u64; COUNTS]>>,
    total: u64,
}

fn bucket_index(value: u64) -> u32 {
    let pow2ceiling = 64 - (value | SUB_BUCKET_MASK).leading_zeros();
    pow2ceiling - (HALF_MAGNITUDE + 1)
}

fn sub_bucket_index(value: u64, bucket: u32) -> u64 {
    value >> bucket
}

fn counts_index(value: u64) -> usize {
    let bucket = bucket_index(value);
    let sub = sub_bucket_index(value, bucket) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub - HALF_COUNT
}

fn value_at_index(index: usize) -> u64 {
    let mut bucket = (index >> HALF_MAGNITUDE) as i64 - 1;
    let mut sub = (index & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        sub -= HALF_COUNT;
        bucket = 0;
    }
    (sub as u64) << bucket
}

fn lowest_equivalent(value: u64) -> u64 {
    let bucket = bucket_index(value);
    sub_bucket_index(value, bucket) << bucket
}

fn equivalent_range(value: u64) -> u64 {
    let bucket = bucket_index(value);
    let sub = sub_bucket_index(value, bucket);
    let adjusted = if sub >= 2 * HALF_COUNT as u64 { bucket + 1 } else { bucket };
    1 << adjusted
}

fn highest_equivalent(value: u64) -> u64 {
    lowest_equivalent(value) + equivalent_range(value) - 1
}

impl Histogram {
    /// Records a duration, clamped to the tracked range like Redis's
    /// updateCommandLatencyHistogram.
    pub fn record(&mut self, ns: u64) {
        let value = ns.clamp(MIN_VALUE, MAX_VALUE);
        let counts = self.counts.get_or_insert_with(|| Box::new([0; COUNTS]));
        counts[counts_index(value)] += 1;
        self.total += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value at percentile `p` (0-100) in ns, as hdr_value_at_percentile reports it.
    pub fn percentile(&self, p: f64) -> u64 {
        let Some(counts) = &self.counts else { return 0 };
        let requested = p.min(100.0);
        let wanted = (((requested / 100.0) * self.total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        let mut value = 0;
        for (i, &c) in counts.iter().enumerate() {
            seen += c;
            if seen >= wanted {
                value = value_at_index(i);
                break;
            }
        }
        if p == 0.0 {
            lowest_equivalent(value)
        } else {
            highest_equivalent(value)
        }
    }

    /// LATENCY HISTOGRAM's cumulative distribution: (µs, calls at or below) at power-of-two
    /// steps from 1024 ns, skipping steps that add nothing (Redis's fillCommandCDF walking
    /// hdr_iter_log_init(1024, 2)).
    pub fn cdf(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let Some(counts) = &self.counts else { return out };
        let mut index: isize = -1;
        let mut value = 0u64;
        let mut highest = 0u64;
        let mut cumulative = 0u64;
        let mut level = 1024u64;
        let mut level_lowest = lowest_equivalent(level);
        let mut previous = 0u64;
        loop {
            let peek_beyond = (index + 1) < COUNTS as isize && value_at_index((index + 1) as usize) > level_lowest;
            if cumulative >= self.total && !peek_beyond {
                break;
            }
            // One step of the log iterator: advance until the value reaches the level.
            let mut exhausted = false;
            while value < level_lowest {
                index += 1;
                if index as usize >= COUNTS {
                    exhausted = true;
                    break;
                }
                let i = index as usize;
                cumulative += counts[i];
                value = value_at_index(i);
                highest = highest_equivalent(value);
            }
            if cumulative > previous {
                out.push((highest / 1000, cumulative));
            }
            previous = cumulative;
            if exhausted {
                break;
            }
            level *= 2;
            level_lowest = lowest_equivalent(level);
        }
        out
    }
}

/// The `calls`/`histogram_usec` map of one command (Redis's fillCommandCDF).
fn cdf_reply(h: &Histogram) -> Reply {
    Reply::Map(vec![
        (Reply::bulk_str("calls"), Reply::Int(h.total as i64)),
        (
            Reply::bulk_str("histogram_usec"),
            Reply::Map(h.cdf().into_iter().map(|(us, n)| (Reply::Int(us as i64), Reply::Int(n as i64))).collect()),
        ),
    ])
}

/// LATENCY HISTOGRAM: every command with samples, or the named commands (a container also
/// reports its subcommands); unknown names are skipped.
pub fn histogram_reply(srv: &Server, names: &[&[u8]]) -> Reply {
    let mut pairs = Vec::new();
    let mut add = |cmd: &crate::cmd::table::Command| {
        if let Some(h) = srv.latency.get(cmd.id).filter(|h| !h.is_empty()) {
            pairs.push((Reply::bulk_str(cmd.fullname), cdf_reply(h)));
        }
    };
    if names.is_empty() {
        for cmd in srv.commands.iter_all() {
            add(cmd);
        }
    } else {
        for name in names {
            let Some(cmd) = srv.commands.lookup_fullname(name) else { continue };
            add(cmd);
            for sub in &cmd.subcommands {
                add(sub);
            }
        }
    }
    Reply::Map(pairs)
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
    fn bucket_layout_matches_hdr() {
        // Unit resolution up to 255, then each bucket doubles the step.
        assert_eq!(counts_index(1), 1);
        assert_eq!(counts_index(255), 255);
        assert_eq!(highest_equivalent(1000), 1003);
        assert_eq!(highest_equivalent(1024), 1031);
        assert_eq!(lowest_equivalent(1_000_000), 999_424);
        assert_eq!(value_at_index(counts_index(5000)), lowest_equivalent(5000));
        assert!(counts_index(MAX_VALUE) < COUNTS);
    }

    #[test]
    fn percentiles_like_hdr() {
        let mut h = Histogram::default();
        for us in 1..=100u64 {
            h.record(us * 1000);
        }
        // 50th value is 50 µs: bucket of 50000 ns ends at 50175.
        assert_eq!(h.percentile(50.0), 50175);
        assert_eq!(h.percentile(100.0), highest_equivalent(100_000));
        assert_eq!(h.percentile(0.0), lowest_equivalent(1000));
    }

    #[test]
    fn cdf_steps_double() {
        let mut h = Histogram::default();
        h.record(1000);
        h.record(1000);
        h.record(3000);
        assert_eq!(h.cdf(), vec![(1, 2), (4, 3)]);
        let empty = Histogram::default();
        assert!(empty.cdf().is_empty());
    }
}
