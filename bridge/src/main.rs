//! `origin-bridge`: see `origin-bridge --help` and bridge/README.md.

use clap::Parser;

use origin_bridge::cli::Cli;
use origin_bridge::error::{exit, BridgeError};
use origin_bridge::log::say;
use origin_bridge::run::{run, RunEnd};
use origin_bridge::stop::Stop;

fn main() {
    let cli = Cli::parse();
    let plan = match cli.plan() {
        Ok(plan) => plan,
        Err(e) => {
            let e = BridgeError::from(e);
            say(&format!("error: {e}"));
            std::process::exit(e.exit_code());
        }
    };
    let stop = Stop::new();
    if let Err(e) = watch_signals(stop.clone()) {
        say(&format!(
            "error: cannot install the SIGINT/SIGTERM handlers: {e}"
        ));
        std::process::exit(exit::OTHER);
    }
    let code = match fluvio_future::task::run_block_on(run(plan, stop)) {
        Ok(RunEnd::CaughtUp) | Ok(RunEnd::Stopped) => exit::OK,
        Err(e) => {
            say(&format!("error: {e}"));
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// The first SIGINT or SIGTERM stops the bridge cleanly (the write in flight finishes, offsets
/// are committed); a second one exits at once.
fn watch_signals(stop: Stop) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            if stop.is_stopped() {
                say(&format!("{name} again: exiting now, without committing"));
                std::process::exit(exit::OTHER);
            }
            say(&format!(
                "{name}: stopping; finishing the write in flight and committing offsets"
            ));
            stop.trigger();
        }
    });
    Ok(())
}
