//! The stop signal every task watches: set once by SIGINT, SIGTERM, a fatal error on another
//! partition, or the end of `--until-caught-up`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A stop that can be awaited. Cloning shares it.
#[derive(Clone)]
pub struct Stop {
    stopped: Arc<AtomicBool>,
    sender: async_channel::Sender<()>,
    receiver: async_channel::Receiver<()>,
}

impl Stop {
    pub fn new() -> Stop {
        let (sender, receiver) = async_channel::bounded(1);
        Stop {
            stopped: Arc::new(AtomicBool::new(false)),
            sender,
            receiver,
        }
    }

    /// Asks every task to stop; later calls do nothing.
    pub fn trigger(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.sender.close();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Completes once [`Stop::trigger`] has been called.
    pub async fn wait(&self) {
        // Nothing is ever sent: `recv` returns when the channel is closed.
        let _ = self.receiver.recv().await;
    }
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_ends_when_triggered_from_another_thread() {
        let stop = Stop::new();
        assert!(!stop.is_stopped());
        let other = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            other.trigger();
        });
        fluvio_future::task::run_block_on(stop.wait());
        assert!(stop.is_stopped());
        t.join().unwrap();
        // Waiting again returns at once.
        fluvio_future::task::run_block_on(stop.wait());
    }
}
