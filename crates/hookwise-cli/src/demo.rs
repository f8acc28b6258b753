//! `hookwise demo` (filled in once the Tower layer lands).

use std::process::ExitCode;

use crate::DemoArgs;

pub(crate) fn run(_a: &DemoArgs) -> Result<ExitCode, String> {
    Err("demo: not available yet".into())
}
