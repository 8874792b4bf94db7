//! Clocks: wall time in ms/µs (TTLs, TIME) and a monotonic clock (latencies, timeouts).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Microseconds on a monotonic clock since the first call.
pub fn monotonic_us() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Nanoseconds on the monotonic clock: one vDSO call and plain integer arithmetic, cheaper
/// than `Instant` on the per-command path.
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Wall-clock milliseconds derived from a monotonic reading, so a command costs one clock
/// read (the one that also times it). Recalibrated from the real clock by the cron.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    /// Wall-clock µs at `base_ns`: kept below the millisecond so that recalibrating does not
    /// move the derived time back by up to 1 ms (a TTL set just before would read 1 ms long).
    base_us: i64,
    base_ns: u64,
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock { base_us: now_us(), base_ns: mono_ns() }
    }
}

impl WallClock {
    /// Re-reads the wall clock (follows adjustments of the system time).
    pub fn calibrate(&mut self) {
        *self = WallClock::default();
    }

    /// The wall-clock time in ms at monotonic time `ns`.
    pub fn ms_at(&self, ns: u64) -> i64 {
        (self.base_us * 1000 + (ns as i64 - self.base_ns as i64)).div_euclid(1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::WallClock;

    #[test]
    fn recalibration_keeps_sub_millisecond_precision() {
        // 1000.999 ms at monotonic 0: one microsecond later is the next millisecond, not the
        // same one (truncating the base to whole ms would read 1000 until 1 ms had passed).
        let clock = WallClock { base_us: 1_000_999, base_ns: 0 };
        assert_eq!(clock.ms_at(0), 1000);
        assert_eq!(clock.ms_at(1_000), 1001);
    }
}
