#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paych_fuzz::actor_params(data));
