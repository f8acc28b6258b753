#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hookwise_fuzz::targets::client_cert(data));
