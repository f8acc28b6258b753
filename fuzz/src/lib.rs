//! Fuzz target logic for hookwise. The targets live in [`targets`] as plain
//! functions over bytes, so `crates/hookwise/tests/fuzz_regressions.rs` can
//! replay the corpus on stable with `cargo test`.

#![forbid(unsafe_code)]

pub mod targets;
