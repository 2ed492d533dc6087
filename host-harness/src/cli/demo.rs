//! `harness demo`: the story told on the built policy modules.

use std::path::PathBuf;

use clap::Args;

use host_harness::ModuleResolver;

use super::{modules_dir, CommandError};

#[derive(Args)]
#[command(
    after_help = "Exit codes:\n  0  the story ran\n  3  the policy modules are not built (the message says how)"
)]
pub struct DemoArgs {
    /// Directory of built modules [default: this workspace's target/wasm32-unknown-unknown/wasm]
    #[arg(long, value_name = "DIR")]
    pub modules_dir: Option<PathBuf>,
}

/// Runs `harness demo`: prints the story.
pub fn demo(args: DemoArgs) -> Result<u8, CommandError> {
    let dir = modules_dir(args.modules_dir);
    let missing: Vec<&str> = host_harness::demo::MODULES
        .into_iter()
        .filter(|m| ModuleResolver::new(&dir).resolve(m).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(CommandError::NotBuilt(format!(
            "the policy modules are not built ({} missing in {}); build them first:\n  \
             rustup target add wasm32-unknown-unknown && cargo build-modules",
            missing.join(", "),
            dir.display()
        )));
    }
    print!("{}", host_harness::demo::run(&dir)?);
    Ok(super::EXIT_OK)
}
