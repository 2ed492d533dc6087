//! Running a plan: check every link against the clusters (reachable, topics present,
//! partition counts equal), then copy each partition in a task of its own until a stop, the
//! end of `--until-caught-up`, or a fatal error (which stops the other partitions cleanly).

use std::sync::Arc;

use crate::config::{LinkPlan, PartitionRange, Plan};
use crate::connect::{client_config, connect_within, partition_count};
use crate::copy::{end_offset, PartitionCopy, PartitionEnd, PartitionStats};
use crate::error::BridgeError;
use crate::log::say;
use crate::progress::{self, LinkProgress};
use crate::stop::Stop;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every partition copied what the source held at start.
    CaughtUp,
    /// A stop was asked for (a signal).
    Stopped,
}

pub async fn run(plan: Plan, stop: Stop) -> Result<RunEnd, BridgeError> {
    let mut progress_links = Vec::new();
    let mut copies = Vec::new();
    for link in &plan.links {
        let link = Arc::new(link.clone());
        // A signal while the clusters are still being reached ends the run at once.
        let (progress, parts) = {
            let work = prepare(&link, &plan, &stop);
            futures_util::pin_mut!(work);
            let stopped = stop.wait();
            futures_util::pin_mut!(stopped);
            match futures_util::future::select(work, stopped).await {
                futures_util::future::Either::Left((prepared, _)) => prepared?,
                futures_util::future::Either::Right(_) => return Ok(RunEnd::Stopped),
            }
        };
        progress_links.push(progress);
        copies.extend(parts);
    }

    let (done_tx, done_rx) = async_channel::unbounded();
    let count = copies.len();
    let mut tasks = Vec::new();
    for copy in copies {
        let done = done_tx.clone();
        tasks.push(fluvio_future::task::spawn_task(async move {
            let result = copy.run().await;
            let _ = done.send(result).await;
        }));
    }
    let reporter = {
        let stop = stop.clone();
        let every = plan.progress_every;
        let links_for_task = Arc::new(progress_links);
        let links = Arc::clone(&links_for_task);
        let task = fluvio_future::task::spawn_task(async move {
            progress::report(&links_for_task, every, &stop).await;
        });
        (task, links)
    };

    let mut first_error = None;
    let mut all_caught_up = true;
    for _ in 0..count {
        match done_rx.recv().await {
            Ok(Ok(PartitionEnd::CaughtUp)) => {}
            Ok(Ok(PartitionEnd::Stopped)) => all_caught_up = false,
            Ok(Err(e)) => {
                all_caught_up = false;
                if first_error.is_none() {
                    // The other partitions stop cleanly: flush, commit.
                    stop.trigger();
                    first_error = Some(e);
                }
            }
            Err(_) => break,
        }
    }
    for t in tasks {
        t.await;
    }
    stop.trigger();
    reporter.0.await;
    let end = if all_caught_up {
        RunEnd::CaughtUp
    } else {
        RunEnd::Stopped
    };
    for l in reporter.1.iter() {
        let t = l.totals();
        say(&format!(
            "{}: {}; delivered {}, refused {}{}, retries {}; offsets committed",
            l.link.name,
            match (&first_error, end) {
                (Some(_), _) => "stopped by an error",
                (None, RunEnd::CaughtUp) => "caught up",
                (None, RunEnd::Stopped) => "stopped",
            },
            t.delivered,
            t.refused,
            if l.link.dead_letter.is_some() {
                format!(" ({} dead-lettered)", t.dead_lettered)
            } else {
                String::new()
            },
            t.retries
        ));
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(end),
    }
}

/// Connects to both clusters of `link`, checks its topics and partitions, and makes a copy
/// task per partition.
async fn prepare(
    link: &Arc<LinkPlan>,
    plan: &Plan,
    stop: &Stop,
) -> Result<(LinkProgress, Vec<PartitionCopy>), BridgeError> {
    let source_config = client_config(&link.source)?;
    let target_config = client_config(&link.target)?;
    let source = connect_within(&link.source, &source_config, plan.connect_timeout).await?;
    let target = connect_within(&link.target, &target_config, plan.connect_timeout).await?;
    let missing = |cluster: &str, topic: &str| BridgeError::TopicMissing {
        link: link.name.clone(),
        cluster: cluster.to_string(),
        topic: topic.to_string(),
    };
    let source_count = partition_count(&source, &link.source.id, &link.topic)
        .await?
        .ok_or_else(|| missing(&link.source.id, &link.topic))?;
    let target_count = partition_count(&target, &link.target.id, &link.to_topic)
        .await?
        .ok_or_else(|| missing(&link.target.id, &link.to_topic))?;
    if source_count != target_count {
        return Err(BridgeError::PartitionCountsDiffer {
            link: link.name.clone(),
            source_cluster: link.source.id.clone(),
            source_topic: link.topic.clone(),
            source_count,
            target_cluster: link.target.id.clone(),
            target_topic: link.to_topic.clone(),
            target_count,
        });
    }
    let range = link.partitions.unwrap_or(PartitionRange {
        first: 0,
        last: source_count.saturating_sub(1),
    });
    if range.last >= source_count {
        return Err(BridgeError::PartitionsOutOfRange {
            link: link.name.clone(),
            topic: link.topic.clone(),
            first: range.first,
            last: range.last,
            count: source_count,
        });
    }
    if let Some(dead_letter) = &link.dead_letter {
        partition_count(&source, &link.source.id, dead_letter)
            .await?
            .ok_or_else(|| missing(&link.source.id, dead_letter))?;
    }

    let chain: Vec<String> = link.chain.iter().map(|s| s.describe()).collect();
    say(&format!(
        "link {}: {} on '{}' ({}) -> {} on '{}' ({}), partitions {range}, consumer {}, chain: {}{}",
        link.name,
        link.topic,
        link.source.id,
        link.source.address,
        link.to_topic,
        link.target.id,
        link.target.address,
        link.consumer,
        if chain.is_empty() {
            "none".to_string()
        } else {
            chain.join(" | ")
        },
        link.dead_letter.as_ref().map_or(String::new(), |d| format!(
            ", dead letters to {d} on '{}'",
            link.source.id
        )),
    ));

    let mut copies = Vec::new();
    let mut partitions = Vec::new();
    for partition in range.iter() {
        let until = if plan.until_caught_up {
            Some(
                end_offset(&source, &link.topic, partition)
                    .await
                    .map_err(|e| BridgeError::Connect {
                        cluster: link.source.id.clone(),
                        detail: format!(
                            "cannot read the end of '{}' partition {partition}: {e:#}",
                            link.topic
                        ),
                    })?,
            )
        } else {
            None
        };
        let stats = Arc::new(PartitionStats::new());
        partitions.push((partition, Arc::clone(&stats)));
        copies.push(PartitionCopy {
            link: Arc::clone(link),
            partition,
            stats,
            stop: stop.clone(),
            until,
        });
    }
    Ok((
        LinkProgress {
            link: Arc::clone(link),
            source,
            partitions,
        },
        copies,
    ))
}
