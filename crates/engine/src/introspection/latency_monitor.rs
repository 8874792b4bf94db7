//! The latency monitor (Redis's latency.c): for each event class (`command`, `fast-command`,
//! `expire-cycle`, …) a ring of the last 160 per-second maxima above
//! `latency-monitor-threshold` ms, the all-time maximum, and the reports built from them
//! (LATENCY LATEST / HISTORY / GRAPH / DOCTOR).

use std::collections::HashMap;
use std::fmt::Write;

use crate::reply::Reply;

/// Redis's LATENCY_TS_LEN.
const TS_LEN: usize = 160;
const GRAPH_COLS: usize = 80;

#[derive(Clone, Copy, Default)]
struct Sample {
    /// Unix seconds; 0 marks an unused slot.
    time: i64,
    latency: u64,
}

struct TimeSeries {
    idx: usize,
    max: u64,
    samples: Box<[Sample; TS_LEN]>,
}

/// Events in creation order (Redis iterates a dict; a stable order reads better and the
/// order is not part of the contract).
#[derive(Default)]
pub struct LatencyMonitor {
    events: Vec<(String, TimeSeries)>,
    index: HashMap<String, usize>,
}

/// Figures DOCTOR derives from one event's samples (Redis's struct latencyStats).
struct Stats {
    avg: u64,
    mad: u64,
    samples: u64,
    period: i64,
}

impl LatencyMonitor {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn series(&self, event: &[u8]) -> Option<&(String, TimeSeries)> {
        let name = std::str::from_utf8(event).ok()?;
        self.index.get(name).map(|&i| &self.events[i])
    }

    /// Redis's latencyAddSample: one sample per second per event, keeping the worst.
    pub fn add_sample(&mut self, event: &str, latency_ms: u64, now_s: i64) {
        let i = match self.index.get(event) {
            Some(&i) => i,
            None => {
                let ts = TimeSeries { idx: 0, max: 0, samples: Box::new([Sample::default(); TS_LEN]) };
                self.events.push((event.to_string(), ts));
                self.index.insert(event.to_string(), self.events.len() - 1);
                self.events.len() - 1
            }
        };
        let ts = &mut self.events[i].1;
        ts.max = ts.max.max(latency_ms);
        let prev = (ts.idx + TS_LEN - 1) % TS_LEN;
        if ts.samples[prev].time == now_s {
            ts.samples[prev].latency = ts.samples[prev].latency.max(latency_ms);
            return;
        }
        ts.samples[ts.idx] = Sample { time: now_s, latency: latency_ms };
        ts.idx = (ts.idx + 1) % TS_LEN;
    }

    /// LATENCY RESET: drops the named event (case-insensitively) or all; returns how many.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match event {
            None => self.events.clear(),
            Some(e) => self.events.retain(|(name, _)| !name.as_bytes().eq_ignore_ascii_case(e)),
        }
        self.index = self.events.iter().enumerate().map(|(i, (n, _))| (n.clone(), i)).collect();
        before - self.events.len()
    }

    /// LATENCY LATEST: event, time and latency of the last sample, all-time max.
    pub fn latest_reply(&self) -> Reply {
        Reply::Array(
            self.events
                .iter()
                .map(|(name, ts)| {
                    let last = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN];
                    Reply::Array(vec![
                        Reply::bulk_str(name),
                        Reply::Int(last.time),
                        Reply::Int(last.latency as i64),
                        Reply::Int(ts.max as i64),
                    ])
                })
                .collect(),
        )
    }

    /// LATENCY HISTORY: (time, latency) pairs, oldest first.
    pub fn history_reply(&self, event: &[u8]) -> Reply {
        let Some((_, ts)) = self.series(event) else { return Reply::Array(Vec::new()) };
        Reply::Array(
            ordered(ts).map(|s| Reply::Array(vec![Reply::Int(s.time), Reply::Int(s.latency as i64)])).collect(),
        )
    }

    /// LATENCY GRAPH: a sparkline of the event's samples, or None without samples.
    pub fn graph(&self, event: &[u8], now_s: i64) -> Option<String> {
        let (name, ts) = self.series(event)?;
        let mut seq = Sparkline::default();
        let (mut min, mut max) = (0u64, 0u64);
        for s in ordered(ts) {
            if seq.samples.is_empty() {
                min = s.latency;
                max = s.latency;
            } else {
                max = max.max(s.latency);
                min = min.min(s.latency);
            }
            let elapsed = now_s - s.time;
            let label = if elapsed < 60 {
                format!("{elapsed}s")
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 3600 * 24 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / (3600 * 24))
            };
            seq.add(s.latency as f64, label);
        }
        let mut graph = format!("{name} - high {max} ms, low {min} ms (all time high {} ms)\n", ts.max);
        graph.push_str(&"-".repeat(GRAPH_COLS));
        graph.push('\n');
        seq.render(&mut graph, GRAPH_COLS, 4);
        Some(graph)
    }

    fn stats(ts: &TimeSeries, now_s: i64) -> Stats {
        let mut st = Stats { avg: 0, mad: 0, samples: 0, period: 0 };
        let mut sum = 0u64;
        for s in ts.samples.iter().filter(|s| s.time != 0) {
            st.samples += 1;
            sum += s.latency;
            if st.period == 0 || s.time < st.period {
                st.period = s.time;
            }
        }
        if let Some(avg) = sum.checked_div(st.samples) {
            st.avg = avg;
            st.period = (now_s - st.period).max(1);
            let dev: u64 = ts.samples.iter().filter(|s| s.time != 0).map(|s| avg.abs_diff(s.latency)).sum();
            st.mad = dev / st.samples;
        }
        st
    }

    /// LATENCY DOCTOR's report (Redis's createLatencyReport), for the advice that applies to
    /// a server without fork, AOF or eviction latency sources.
    pub fn doctor(&self, cfg: &DoctorConfig, now_s: i64) -> String {
        if self.events.is_empty() && cfg.threshold == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string();
        }
        let mut report = String::new();
        let mut advices = 0;
        let (mut slowlog_enabled, mut slowlog_tuning, mut slowlog_inspect) = (false, false, false);
        let (mut scheduler, mut hz, mut large_objects, mut mass_eviction) = (false, false, false, false);
        for (n, (name, ts)) in self.events.iter().enumerate() {
            if n == 0 {
                report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            }
            let st = Self::stats(ts, now_s);
            let _ = write!(
                report,
                "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
                n + 1,
                name,
                st.samples,
                st.avg,
                st.mad,
                st.period as f64 / st.samples.max(1) as f64,
                ts.max
            );
            match name.to_ascii_lowercase().as_str() {
                "command" => {
                    if cfg.slowlog_slower_than < 0 {
                        slowlog_enabled = true;
                        advices += 1;
                    } else if cfg.slowlog_slower_than / 1000 > cfg.threshold as i64 {
                        slowlog_tuning = true;
                        advices += 1;
                    }
                    slowlog_inspect = true;
                    large_objects = true;
                    advices += 2;
                }
                "fast-command" => {
                    scheduler = true;
                    advices += 1;
                }
                "expire-cycle" => {
                    hz = true;
                    large_objects = true;
                    advices += 2;
                }
                "eviction-del" => {
                    large_objects = true;
                    advices += 1;
                }
                "eviction-cycle" => {
                    mass_eviction = true;
                    advices += 1;
                }
                _ => {}
            }
            report.push('\n');
        }
        let events = self.events.len();
        if events == 0 && advices == 0 {
            report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        } else if events > 0 && advices == 0 {
            report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
        } else {
            report.push_str("\nI have a few advices for you:\n\n");
            let threshold_us = cfg.threshold * 1000;
            if slowlog_enabled {
                let _ = writeln!(report, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.");
            }
            if slowlog_tuning {
                let _ = writeln!(report, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.");
            }
            if slowlog_inspect {
                report.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
            }
            if scheduler {
                report.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
            }
            if hz && cfg.hz < 100 {
                report.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
            }
            if large_objects {
                report.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
            }
            if mass_eviction {
                report.push_str("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
            }
        }
        report
    }
}

/// Configuration DOCTOR's advice depends on.
pub struct DoctorConfig {
    pub threshold: u64,
    pub slowlog_slower_than: i64,
    pub hz: i64,
}

/// Samples oldest first, skipping unused slots.
fn ordered(ts: &TimeSeries) -> impl Iterator<Item = Sample> + '_ {
    (0..TS_LEN).map(move |j| ts.samples[(ts.idx + j) % TS_LEN]).filter(|s| s.time != 0)
}

/// Redis's sparkline.c: samples drawn on `rows` text rows with `_o#` fill characters and
/// labels printed vertically below.
#[derive(Default)]
struct Sparkline {
    samples: Vec<(f64, String)>,
    min: f64,
    max: f64,
}

impl Sparkline {
    fn add(&mut self, value: f64, label: String) {
        if self.samples.is_empty() {
            self.min = value;
            self.max = value;
        } else if value < self.min {
            self.min = value;
        } else if value > self.max {
            self.max = value;
        }
        self.samples.push((value, label));
    }

    fn render(&self, out: &mut String, columns: usize, rows: usize) {
        let mut j = 0;
        while j < self.samples.len() {
            let len = (self.samples.len() - j).min(columns);
            if j != 0 {
                out.push('\n');
            }
            self.render_range(out, rows, j, len);
            j += columns;
        }
    }

    fn render_range(&self, out: &mut String, rows: usize, offset: usize, len: usize) {
        const FILL: &[u8] = b"_o#";
        let charset_len = FILL.len() as i64;
        let mut relmax = self.max - self.min;
        if relmax == 0.0 {
            relmax = 1.0;
        }
        let steps = charset_len * rows as i64;
        let has_labels = self.samples.iter().any(|(_, l)| !l.is_empty());
        let mut row = 0i64;
        loop {
            let mut more = false;
            let mut chars = vec![b' '; len];
            for (j, ch) in chars.iter_mut().enumerate() {
                let (value, label) = &self.samples[j + offset];
                let relval = value - self.min;
                let mut step = (((relval * steps as f64) as i64) as f64 / relmax) as i64;
                step = step.clamp(0, steps - 1);
                if row < rows as i64 {
                    let charidx = step - (rows as i64 - row - 1) * charset_len;
                    more = true;
                    if (0..charset_len).contains(&charidx) {
                        *ch = FILL[charidx as usize];
                    } else if charidx >= charset_len {
                        *ch = b'|';
                    }
                } else {
                    // One blank row between the graph and the labels.
                    if has_labels && row - (rows as i64) < 1 {
                        more = true;
                        break;
                    }
                    let label_char = (row - rows as i64 - 1) as usize;
                    if let Some(&c) = label.as_bytes().get(label_char) {
                        more = true;
                        *ch = c;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeps_the_worst() {
        let mut m = LatencyMonitor::default();
        m.add_sample("command", 250, 100);
        m.add_sample("command", 300, 100);
        m.add_sample("command", 200, 101);
        let Reply::Array(h) = m.history_reply(b"command") else { panic!() };
        assert_eq!(h.len(), 2);
        assert_eq!(h[0], Reply::Array(vec![Reply::Int(100), Reply::Int(300)]));
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert!(m.is_empty());
    }

    #[test]
    fn graph_matches_redis_layout() {
        let mut m = LatencyMonitor::default();
        m.add_sample("command", 300, 1000);
        m.add_sample("command", 500, 1001);
        let g = m.graph(b"command", 1002).unwrap();
        let expected = "command - high 500 ms, low 300 ms (all time high 500 ms)\n".to_string()
            + &"-".repeat(80)
            + "\n #\n |\n |\n_|\n  \n21\nss\n";
        assert_eq!(g, expected);
    }
}
