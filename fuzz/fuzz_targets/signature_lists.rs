#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hookwise_fuzz::targets::signature_lists(data));
