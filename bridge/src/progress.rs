//! The progress line: one per link every few seconds, with what it delivered since the last
//! line, its rate, what was refused, how far it is behind the source's end, and how many
//! times a partition had to reconnect.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fluvio::Fluvio;
use futures_util::future::select;

use crate::config::LinkPlan;
use crate::copy::{end_offset, PartitionStats};
use crate::log::say;
use crate::stop::Stop;

/// One link as the progress line reads it.
pub struct LinkProgress {
    pub link: Arc<LinkPlan>,
    /// A client of the source cluster, to read the partitions' ends.
    pub source: Fluvio,
    pub partitions: Vec<(u32, Arc<PartitionStats>)>,
}

/// Totals over a link's partitions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub delivered: u64,
    pub refused: u64,
    pub dead_lettered: u64,
    pub retries: u64,
}

impl LinkProgress {
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for (_, s) in &self.partitions {
            t.delivered += s.delivered.load(Ordering::Relaxed);
            t.refused += s.refused.load(Ordering::Relaxed);
            t.dead_lettered += s.dead_lettered.load(Ordering::Relaxed);
            t.retries += s.retries.load(Ordering::Relaxed);
        }
        t
    }

    /// Records between each partition's position and its end; `None` if an end could not be
    /// read.
    async fn lag(&self) -> Option<u64> {
        let mut lag = 0u64;
        for (p, s) in &self.partitions {
            let end = end_offset(&self.source, &self.link.topic, *p).await.ok()?;
            let position = s.position.load(Ordering::Relaxed).max(0);
            lag += (end - position).max(0) as u64;
        }
        Some(lag)
    }
}

/// The line itself.
pub fn line(
    link: &LinkPlan,
    now: Totals,
    before: Totals,
    elapsed: Duration,
    lag: Option<u64>,
) -> String {
    let delta = now.delivered - before.delivered;
    let rate = if elapsed.is_zero() {
        0.0
    } else {
        delta as f64 / elapsed.as_secs_f64()
    };
    format!(
        "{} {} -> {}: delivered {} (+{delta}, {rate:.0} rec/s), refused {}{}, lag {}, retries {}",
        link.name,
        link.topic,
        link.to_topic,
        now.delivered,
        now.refused,
        if link.dead_letter.is_some() {
            format!(" ({} dead-lettered)", now.dead_lettered)
        } else {
            String::new()
        },
        lag.map_or("?".to_string(), |l| l.to_string()),
        now.retries
    )
}

/// Prints a line per link every `every` until `stop`.
pub async fn report(links: &[LinkProgress], every: Duration, stop: &Stop) {
    let mut before: Vec<Totals> = links.iter().map(LinkProgress::totals).collect();
    let mut last = Instant::now();
    loop {
        let sleep = fluvio_future::timer::sleep(every);
        futures_util::pin_mut!(sleep);
        let stopped = stop.wait();
        futures_util::pin_mut!(stopped);
        if let futures_util::future::Either::Right(_) = select(sleep, stopped).await {
            return;
        }
        let elapsed = last.elapsed();
        last = Instant::now();
        for (l, prev) in links.iter().zip(before.iter_mut()) {
            let now = l.totals();
            let lag = l.lag().await;
            say(&line(&l.link, now, *prev, elapsed, lag));
            *prev = now;
        }
    }
}
