//! Copying one partition: read a chunk from the source with the link's named consumer, write
//! it to the same partition of the target through the chain in one produce request, and only
//! once the target has acknowledged it commit the consumer's offset. One request is in flight
//! at a time, so a failure never lets a later chunk overtake an earlier one; after a failure
//! the partition resumes from its last acknowledged record (or, after a restart, from the
//! offset committed on the source), re-sending at most what was in flight.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fluvio::consumer::{
    ConsumerConfigExtBuilder, ConsumerStream, OffsetManagementStrategy, RetryMode,
};
use fluvio::{
    DeliverySemantic, Fluvio, FluvioError, Isolation, Offset, ProducerError, RecordKey,
    RetryPolicy, RetryStrategy, TopicProducerConfigBuilder, TopicProducerPool,
};
use fluvio_protocol::link::ErrorCode;
use futures_util::future::{select, Either};
use futures_util::{FutureExt, StreamExt};

use crate::chain::invocations;
use crate::config::{LinkPlan, StartAt};
use crate::connect::{client_config, connect_once};
use crate::dead_letter::envelope;
use crate::deliver::{deliver, DeliverError, Fatal, SourceRecord, Target, WriteOutcome};
use crate::error::BridgeError;
use crate::log::say;
use crate::retry::Backoff;
use crate::stop::Stop;

/// How long a chunk waits for more records once it has one: long enough to fill a batch from
/// the next fetch, short enough not to be noticed.
const LINGER: Duration = Duration::from_millis(5);
/// How long a stop waits for the write in flight before leaving it unacknowledged (it is then
/// re-sent at the next start).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What one partition has done, read by the progress line.
#[derive(Debug, Default)]
pub struct PartitionStats {
    /// Records the target accepted.
    pub delivered: AtomicU64,
    pub refused: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Sessions that ended in a connection or leader failure and were started again.
    pub retries: AtomicU64,
    /// The next offset to copy; -1 until known.
    pub position: AtomicI64,
}

impl PartitionStats {
    pub fn new() -> PartitionStats {
        PartitionStats {
            position: AtomicI64::new(-1),
            ..PartitionStats::default()
        }
    }
}

/// Why a partition stopped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionEnd {
    Stopped,
    CaughtUp,
}

/// How a session ended, when it did not end the partition.
enum SessionError {
    Transient(String),
    Fatal(BridgeError),
}

/// One partition of one link.
pub struct PartitionCopy {
    pub link: Arc<LinkPlan>,
    pub partition: u32,
    pub stats: Arc<PartitionStats>,
    pub stop: Stop,
    /// With `--until-caught-up`: stop once this offset is reached.
    pub until: Option<i64>,
}

impl PartitionCopy {
    pub async fn run(self) -> Result<PartitionEnd, BridgeError> {
        let mut next: Option<i64> = None;
        let mut backoff = Backoff::new();
        loop {
            if self.stop.is_stopped() {
                return Ok(PartitionEnd::Stopped);
            }
            match self.session(&mut next, &mut backoff).await {
                Ok(end) => return Ok(end),
                Err(SessionError::Fatal(e)) => return Err(e),
                Err(SessionError::Transient(detail)) => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = backoff.next_delay();
                    say(&format!(
                        "link {} partition {}: {detail}; resuming from offset {} in {:.1} s",
                        self.link.name,
                        self.partition,
                        next.map_or("(committed)".to_string(), |n| n.to_string()),
                        delay.as_secs_f64()
                    ));
                    let sleep = fluvio_future::timer::sleep(delay);
                    futures_util::pin_mut!(sleep);
                    let stop = self.stop.wait();
                    futures_util::pin_mut!(stop);
                    select(sleep, stop).await;
                }
            }
        }
    }

    async fn session(
        &self,
        next: &mut Option<i64>,
        backoff: &mut Backoff,
    ) -> Result<PartitionEnd, SessionError> {
        let link = &self.link;
        let transient = |what: &str| {
            let what = what.to_string();
            move |e: anyhow::Error| SessionError::Transient(format!("{what}: {e:#}"))
        };
        let source_config =
            client_config(&link.source).map_err(|e| SessionError::Fatal(e.into()))?;
        let target_config =
            client_config(&link.target).map_err(|e| SessionError::Fatal(e.into()))?;
        let source = connect_once(&source_config).await.map_err(|e| {
            SessionError::Transient(format!("cannot reach source '{}': {e}", link.source.id))
        })?;
        let target = connect_once(&target_config).await.map_err(|e| {
            SessionError::Transient(format!("cannot reach target '{}': {e}", link.target.id))
        })?;

        let start = match *next {
            Some(n) => Offset::absolute(n).map_err(|e| transient("resume offset")(e.into()))?,
            None => {
                let committed =
                    committed_offset(&source, &link.consumer, &link.topic, self.partition)
                        .await
                        .map_err(transient("reading the committed offset"))?;
                match (committed, link.start) {
                    (Some(c), _) => {
                        *next = Some(c + 1);
                        Offset::absolute(c + 1)
                            .map_err(|e| transient("committed offset")(e.into()))?
                    }
                    (None, StartAt::Beginning) => Offset::beginning(),
                    (None, StartAt::End) => {
                        let end = end_offset(&source, &link.topic, self.partition)
                            .await
                            .map_err(transient("reading the end offset"))?;
                        *next = Some(end);
                        Offset::absolute(end).map_err(|e| transient("end offset")(e.into()))?
                    }
                }
            }
        };
        if let Some(n) = *next {
            self.stats.position.store(n, Ordering::Relaxed);
        }

        let consumer_config = ConsumerConfigExtBuilder::default()
            .topic(link.topic.clone())
            .partition(self.partition)
            .offset_consumer(link.consumer.clone())
            .offset_start(start)
            .offset_strategy(OffsetManagementStrategy::Manual)
            .retry_mode(RetryMode::Disabled)
            .build()
            .map_err(transient("consumer config"))?;
        let mut stream = source
            .consumer_with_config(consumer_config)
            .await
            .map_err(transient("opening the source stream"))?;
        let producer = target
            .topic_producer_with_config(
                link.to_topic.clone(),
                producer_config(link, self.partition)?,
            )
            .await
            .map_err(|e| match outcome_of(&e) {
                WriteOutcome::Fatal(f) => SessionError::Fatal(fatal(link, f)),
                _ => SessionError::Transient(format!("opening the target producer: {e:#}")),
            })?;
        let mut target_writer = FluvioTarget { producer };
        let mut dead_letters: Option<TopicProducerPool> = None;

        let mut last_flush = Instant::now();
        let mut unflushed = false;
        let mut pending_end: Option<String> = None;
        loop {
            if let Some(until) = self.until {
                if next.unwrap_or(0) >= until {
                    flush_offsets(&mut stream, &mut unflushed).await?;
                    return Ok(PartitionEnd::CaughtUp);
                }
            }
            if let Some(why) = pending_end.take() {
                flush_offsets(&mut stream, &mut unflushed).await?;
                return Err(SessionError::Transient(why));
            }
            let flush_at = if unflushed {
                last_flush + link.commit_every
            } else {
                Instant::now() + Duration::from_secs(1)
            };
            let chunk = match gather(&mut stream, link, &self.stop, flush_at).await {
                Gathered::Stopped => {
                    flush_offsets(&mut stream, &mut unflushed).await?;
                    return Ok(PartitionEnd::Stopped);
                }
                Gathered::Idle => {
                    if unflushed && last_flush.elapsed() >= link.commit_every {
                        flush_offsets(&mut stream, &mut unflushed).await?;
                        last_flush = Instant::now();
                    }
                    continue;
                }
                Gathered::Records { records, then } => {
                    pending_end = then;
                    records
                }
                Gathered::Ended(why) => return Err(SessionError::Transient(why)),
            };

            let stop_at_refusal = link.on_refusal == crate::config::OnRefusal::Stop;
            let delivery = {
                let work = deliver(&mut target_writer, &chunk, stop_at_refusal);
                futures_util::pin_mut!(work);
                let stopped = self.stop.wait();
                futures_util::pin_mut!(stopped);
                match select(work, stopped).await {
                    Either::Left((d, _)) => d,
                    Either::Right(((), work)) => {
                        // Stopping: give the write in flight a moment, never commit past it.
                        let grace = fluvio_future::timer::sleep(STOP_GRACE);
                        futures_util::pin_mut!(grace);
                        match select(work, grace).await {
                            Either::Left((d, _)) => d,
                            Either::Right(_) => {
                                flush_offsets(&mut stream, &mut unflushed).await?;
                                return Ok(PartitionEnd::Stopped);
                            }
                        }
                    }
                }
            };
            let delivery = match delivery {
                Ok(d) => d,
                Err(DeliverError::Transient(e)) => {
                    return Err(SessionError::Transient(format!(
                        "writing to '{}' on '{}': {e}",
                        link.to_topic, link.target.id
                    )))
                }
                Err(DeliverError::Fatal(f)) => return Err(SessionError::Fatal(fatal(link, f))),
            };
            backoff.reset();
            self.stats
                .delivered
                .fetch_add(delivery.delivered as u64, Ordering::Relaxed);
            for refusal in &delivery.refusals {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                say(&format!(
                    "link {} partition {}: record at offset {} refused by '{}': {}",
                    link.name, self.partition, refusal.record.offset, link.target.id, refusal.hint
                ));
                if delivery.stopped {
                    return Err(SessionError::Fatal(BridgeError::RefusedAndStopped {
                        link: link.name.clone(),
                        partition: self.partition,
                        offset: refusal.record.offset,
                        hint: refusal.hint.clone(),
                    }));
                }
                if let Some(topic) = &link.dead_letter {
                    let producer = match dead_letters.as_ref() {
                        Some(p) => p,
                        None => dead_letters.insert(
                            source
                                .topic_producer(topic.clone())
                                .await
                                .map_err(|e| dead_letter_error(link, topic, e))?,
                        ),
                    };
                    let record = envelope(link, self.partition, refusal);
                    let sent = async {
                        let output = producer.send(record.key, record.value).await?;
                        producer.flush().await?;
                        output.wait().await?;
                        Ok::<(), anyhow::Error>(())
                    };
                    sent.await.map_err(|e| dead_letter_error(link, topic, e))?;
                    self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                }
            }

            // Acknowledged (or refused and accounted for): the chunk is done.
            let last = chunk.last().map_or(0, |r| r.offset);
            stream
                .offset_commit()
                .await
                .map_err(|e| SessionError::Transient(format!("committing the offset: {e}")))?;
            unflushed = true;
            *next = Some(last + 1);
            self.stats.position.store(last + 1, Ordering::Relaxed);
            if last_flush.elapsed() >= link.commit_every {
                flush_offsets(&mut stream, &mut unflushed).await?;
                last_flush = Instant::now();
            }
        }
    }
}

fn dead_letter_error(link: &LinkPlan, topic: &str, e: anyhow::Error) -> SessionError {
    SessionError::Fatal(BridgeError::DeadLetter {
        link: link.name.clone(),
        cluster: link.source.id.clone(),
        topic: topic.to_string(),
        detail: format!("{e:#}"),
    })
}

fn fatal(link: &LinkPlan, f: Fatal) -> BridgeError {
    match f {
        Fatal::Chain(detail) => BridgeError::ChainRefused {
            link: link.name.clone(),
            cluster: link.target.id.clone(),
            detail,
        },
        Fatal::Closed(detail) => BridgeError::TargetClosed {
            link: link.name.clone(),
            cluster: link.target.id.clone(),
            topic: link.to_topic.clone(),
            detail,
        },
    }
}

/// Stores the committed offset on the source cluster, if there is one it has not stored.
async fn flush_offsets<S: ConsumerStream + ?Sized>(
    stream: &mut S,
    unflushed: &mut bool,
) -> Result<(), SessionError> {
    if *unflushed {
        stream
            .offset_flush()
            .await
            .map_err(|e| SessionError::Transient(format!("storing the committed offset: {e}")))?;
        *unflushed = false;
    }
    Ok(())
}

/// The produce side: everything in one batch, sent only when the bridge flushes, so one chunk
/// is one produce request; acknowledged when the leader has committed it.
fn producer_config(
    link: &LinkPlan,
    partition: u32,
) -> Result<fluvio::TopicProducerConfig, SessionError> {
    let chain = invocations(&link.chain).map_err(|e| SessionError::Fatal(e.into()))?;
    let mut builder = TopicProducerConfigBuilder::default();
    builder
        // The chunk decides the batch: never full, never sent by the linger timer.
        .batch_size(1 << 30)
        .max_request_size(1 << 30)
        .linger(Duration::from_secs(3600))
        .isolation(Isolation::ReadCommitted)
        .timeout(Duration::from_secs(30))
        .delivery_semantic(DeliverySemantic::AtLeastOnce(RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(60),
            strategy: RetryStrategy::ExponentialBackoff,
        }))
        .smartmodules(chain)
        .set_specific_partitioner(partition);
    builder.build().map_err(|e| {
        SessionError::Fatal(BridgeError::Connect {
            cluster: link.target.id.clone(),
            detail: format!("producer config: {e}"),
        })
    })
}

/// The target as the delivery logic sees it.
struct FluvioTarget {
    producer: TopicProducerPool,
}

impl Target for FluvioTarget {
    async fn write(&mut self, records: &[SourceRecord]) -> WriteOutcome {
        self.producer.clear_errors().await;
        let mut outputs = Vec::with_capacity(records.len());
        for r in records {
            let key = match &r.key {
                Some(k) => RecordKey::from(k.clone()),
                None => RecordKey::NULL,
            };
            match self.producer.send(key, r.value.clone()).await {
                Ok(o) => outputs.push(o),
                Err(e) => return outcome_of(&e),
            }
        }
        if let Err(e) = self.producer.flush().await {
            return outcome_of(&e);
        }
        for o in outputs {
            if let Err(e) = o.wait().await {
                return outcome_of(&anyhow::Error::from(e));
            }
        }
        WriteOutcome::Stored
    }
}

/// What a producer error means for the bridge, by the platform's error code.
pub fn outcome_of(e: &anyhow::Error) -> WriteOutcome {
    let code = if let Some(FluvioError::Producer(ProducerError::SpuErrorCode(code))) =
        e.downcast_ref::<FluvioError>()
    {
        Some(code)
    } else if let Some(ProducerError::SpuErrorCode(code)) = e.downcast_ref::<ProducerError>() {
        Some(code)
    } else if let Some(FluvioError::TopicNotFound(topic)) = e.downcast_ref::<FluvioError>() {
        return WriteOutcome::Fatal(Fatal::Closed(format!("topic '{topic}' not found")));
    } else {
        e.downcast_ref::<ErrorCode>()
    };
    match code {
        Some(code) => outcome_of_code(code),
        None => WriteOutcome::Transient(format!("{e:#}")),
    }
}

fn outcome_of_code(code: &ErrorCode) -> WriteOutcome {
    match code {
        ErrorCode::SmartModuleRuntimeError(e) => WriteOutcome::Refused {
            hint: e.hint.trim().to_string(),
            key: e.record_key.as_ref().map(|k| k.to_vec()),
            value: e.record_value.to_vec(),
        },
        ErrorCode::StorageError => WriteOutcome::RefusedUnexplained {
            detail: code.to_string(),
        },
        ErrorCode::MessageTooLarge => WriteOutcome::TooLarge,
        ErrorCode::SmartModuleError
        | ErrorCode::SmartModuleNotFound { .. }
        | ErrorCode::SmartModuleInvalid { .. }
        | ErrorCode::SmartModuleInvalidExports { .. }
        | ErrorCode::SmartModuleChainInitError(_)
        | ErrorCode::SmartModuleInitError(_)
        | ErrorCode::SmartModuleLookBackError(_)
        | ErrorCode::SmartModuleMemoryLimitExceeded { .. }
        // The produce path reports a trapping or uncompilable chain as `Other`.
        | ErrorCode::Other(_) => WriteOutcome::Fatal(Fatal::Chain(code.to_string())),
        ErrorCode::MirrorProduceFromHome
        | ErrorCode::MirrorProduceFromRemoteNotAllowed
        | ErrorCode::MirrorInvalidType
        | ErrorCode::TopicNotFound
        | ErrorCode::TopicDeleted
        | ErrorCode::PermissionDenied
        | ErrorCode::CompressionError => WriteOutcome::Fatal(Fatal::Closed(code.to_string())),
        other => WriteOutcome::Transient(other.to_string()),
    }
}

/// What waiting for records gave.
enum Gathered {
    /// A chunk; `then` is a stream failure met after it, to act on once it is delivered.
    Records {
        records: Vec<SourceRecord>,
        then: Option<String>,
    },
    /// Nothing arrived before the next offset flush was due.
    Idle,
    Stopped,
    /// The stream failed or ended before any record.
    Ended(String),
}

/// Waits for the first record (or a stop, or `wake_at`), then takes what follows within
/// [`LINGER`], up to the link's batch limits.
async fn gather<S>(stream: &mut S, link: &LinkPlan, stop: &Stop, wake_at: Instant) -> Gathered
where
    S: futures_util::Stream<Item = Result<fluvio::consumer::Record, ErrorCode>> + Unpin,
{
    let first = {
        let next = stream.next();
        let timer = fluvio_future::timer::sleep(wake_at.saturating_duration_since(Instant::now()));
        futures_util::pin_mut!(timer);
        let stopped = stop.wait();
        futures_util::pin_mut!(stopped);
        match select(next, select(stopped, timer)).await {
            Either::Left((item, _)) => item,
            Either::Right((Either::Left(_), _)) => return Gathered::Stopped,
            Either::Right((Either::Right(_), _)) => return Gathered::Idle,
        }
    };
    let first = match first {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Gathered::Ended(format!("reading '{}': {e}", link.topic)),
        None => return Gathered::Ended(format!("the stream of '{}' ended", link.topic)),
    };
    let mut records = vec![to_source(first)];
    let mut bytes = records[0].size();
    let linger_until = Instant::now() + LINGER;
    let mut then = None;
    while records.len() < link.batch_records && bytes < link.batch_bytes {
        let item = match stream.next().now_or_never() {
            Some(item) => item,
            None => {
                let left = linger_until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let next = stream.next();
                let timer = fluvio_future::timer::sleep(left);
                futures_util::pin_mut!(timer);
                match select(next, timer).await {
                    Either::Left((item, _)) => item,
                    Either::Right(_) => break,
                }
            }
        };
        match item {
            Some(Ok(r)) => {
                let r = to_source(r);
                bytes += r.size();
                records.push(r);
            }
            Some(Err(e)) => {
                then = Some(format!("reading '{}': {e}", link.topic));
                break;
            }
            None => {
                then = Some(format!("the stream of '{}' ended", link.topic));
                break;
            }
        }
    }
    Gathered::Records { records, then }
}

fn to_source(r: fluvio::consumer::Record) -> SourceRecord {
    let offset = r.offset;
    let record = r.into_inner();
    SourceRecord {
        offset,
        key: record.key,
        value: record.value,
    }
}

/// The offset committed for `consumer` on `topic`'s `partition`, if any.
async fn committed_offset(
    source: &Fluvio,
    consumer: &str,
    topic: &str,
    partition: u32,
) -> anyhow::Result<Option<i64>> {
    Ok(source
        .consumer_offsets()
        .await?
        .into_iter()
        .find(|c| c.consumer_id == consumer && c.topic == topic && c.partition == partition)
        .map(|c| c.offset))
}

/// The partition's end: the offset its next record will get. Read from its last record; an
/// empty partition ends at 0.
pub async fn end_offset(source: &Fluvio, topic: &str, partition: u32) -> anyhow::Result<i64> {
    let config = ConsumerConfigExtBuilder::default()
        .topic(topic.to_string())
        .partition(partition)
        .offset_start(Offset::from_end(1))
        .disable_continuous(true)
        .retry_mode(RetryMode::Disabled)
        .build()?;
    let mut stream = source.consumer_with_config(config).await?;
    match stream.next().await {
        Some(Ok(last)) => Ok(last.offset + 1),
        Some(Err(e)) => Err(e.into()),
        None => Ok(0),
    }
}
