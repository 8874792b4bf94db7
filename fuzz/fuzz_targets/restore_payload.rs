//! RESTORE payloads with arbitrary bytes (libFuzzer mutates valid DUMP payloads from the
//! seed corpus: byte flips, truncations, splices). The checksum is not checked, as with
//! DEBUG SET-SKIP-CHECKSUM-VALIDATION 1, so mutations reach every decoder. Any input must be
//! refused with an error or restored — never a panic, a hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    spinel_engine::persist::dump::fuzz_one(data);
});
