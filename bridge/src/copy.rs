//! Copying one partition: read a chunk from the source with the link's named consumer, write
//! it to the same partition of the target through the chain in one produce request, and only
//! once the target has acknowledged it commit the consumer's offset. One request is in flight
//! at a time, so a failure never lets a later chunk overtake an earlier one; after a failure
//! the partition resumes from its last acknowledged record (or, after a restart, from the
//! offset committed on the source), re-sending at most what was not yet committed.
//!
//! The source is read in rounds: each round opens a stream that ends at the partition's end
//! as it was when the round began. The client commits "the last record the stream yielded"
//! and needs the stream idle to do it (a read still waiting for records holds the stream, and
//! nothing releases it until that read is polled again), so the bridge only commits after a
//! read that completed, and never leaves a read waiting.

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
use futures_util::StreamExt;

use crate::chain::invocations;
use crate::config::{LinkPlan, OnRefusal, StartAt};
use crate::connect::{client_config, connect_once};
use crate::dead_letter::envelope;
use crate::deliver::{deliver, DeliverError, Fatal, SourceRecord, Target, WriteOutcome};
use crate::error::BridgeError;
use crate::log::say;
use crate::retry::Backoff;
use crate::stop::Stop;

/// How long a stop waits for the read or write in flight before leaving it (what it carried
/// is not committed, and is re-sent at the next start).
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Bytes a fetch may bring: many of the bridge's own batches, and more than the largest batch
/// an SPU stores by default (2 MiB), so that a read that starts at a batch gets all of it.
const FETCH_BYTES: i32 = 8 << 20;
/// The wait between rounds that found nothing new, doubling from the first to the last.
const IDLE_FIRST: Duration = Duration::from_millis(20);
const IDLE_MOST: Duration = Duration::from_millis(500);
/// How long a write may wait for the target's acknowledgement before the session is dropped
/// and opened again. The client keeps a request sent to an SPU that has since restarted
/// waiting until its own retry budget runs out (a minute); a new connection reaches the new
/// SPU at once. What the abandoned write stored is sent again and dropped by the target's
/// window.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

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
    Fatal(Box<BridgeError>),
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

/// A session's connections and what it has committed but not yet stored on the source.
struct Session {
    source: Fluvio,
    target: FluvioTarget,
    dead_letters: Option<TopicProducerPool>,
    last_flush: Instant,
    /// Bytes a fetch may bring.
    fetch_bytes: i32,
    /// Rounds ended early to read again after offsets were skipped.
    rereads: u64,
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
                Err(SessionError::Fatal(e)) => return Err(*e),
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
                    self.sleep_unless_stopped(delay).await;
                }
            }
        }
    }

    async fn sleep_unless_stopped(&self, delay: Duration) {
        let sleep = fluvio_future::timer::sleep(delay);
        futures_util::pin_mut!(sleep);
        let stop = self.stop.wait();
        futures_util::pin_mut!(stop);
        select(sleep, stop).await;
    }

    async fn session(
        &self,
        next: &mut Option<i64>,
        backoff: &mut Backoff,
    ) -> Result<PartitionEnd, SessionError> {
        let link = &self.link;
        let source_config =
            client_config(&link.source).map_err(|e| SessionError::Fatal(Box::new(e.into())))?;
        let target_config =
            client_config(&link.target).map_err(|e| SessionError::Fatal(Box::new(e.into())))?;
        let source = connect_once(&source_config).await.map_err(|e| {
            SessionError::Transient(format!("cannot reach source '{}': {e}", link.source.id))
        })?;
        let target = connect_once(&target_config).await.map_err(|e| {
            SessionError::Transient(format!("cannot reach target '{}': {e}", link.target.id))
        })?;
        if next.is_none() {
            *next = self.resume_point(&source).await?;
        }
        let producer = target
            .topic_producer_with_config(
                link.to_topic.clone(),
                producer_config(link, self.partition)?,
            )
            .await
            .map_err(|e| match outcome_of(&e) {
                WriteOutcome::Fatal(f) => SessionError::Fatal(Box::new(fatal(link, f))),
                _ => SessionError::Transient(format!("opening the target producer: {e:#}")),
            })?;
        let mut session = Session {
            source,
            target: FluvioTarget { producer },
            dead_letters: None,
            last_flush: Instant::now(),
            fetch_bytes: FETCH_BYTES.max((link.batch_bytes as i32).saturating_mul(4)),
            rereads: 0,
        };

        let mut idle = IDLE_FIRST;
        loop {
            // `until` is the offset after the last record at start: an empty partition's is 0.
            if let Some(until) = self.until {
                if next.unwrap_or(0) >= until {
                    return Ok(PartitionEnd::CaughtUp);
                }
            }
            if self.stop.is_stopped() {
                return Ok(PartitionEnd::Stopped);
            }
            if let Some(n) = *next {
                self.stats.position.store(n, Ordering::Relaxed);
            }
            let read = self.round(&mut session, next).await?;
            backoff.reset();
            match read {
                Round::Stopped => return Ok(PartitionEnd::Stopped),
                Round::Copied => idle = IDLE_FIRST,
                Round::Empty => {
                    // Nothing new. (With `until` not reached, a stream that ended early: the
                    // record before `until` exists, so the next round reads on.)
                    self.sleep_unless_stopped(idle).await;
                    idle = (idle * 2).min(IDLE_MOST);
                }
            }
        }
    }

    /// Where a partition starts when this process has not copied from it yet: after the
    /// consumer's committed offset, else at the beginning (`None`: the stream finds it) or at
    /// the end as it is now.
    async fn resume_point(&self, source: &Fluvio) -> Result<Option<i64>, SessionError> {
        let link = &self.link;
        let committed = committed_offset(source, &link.consumer, &link.topic, self.partition)
            .await
            .map_err(|e| SessionError::Transient(format!("reading the committed offset: {e:#}")))?;
        Ok(match (committed, link.start) {
            (Some(c), _) => Some(c + 1),
            (None, StartAt::Beginning) => None,
            (None, StartAt::End) => Some(
                end_offset(source, &link.topic, self.partition)
                    .await
                    .map_err(|e| {
                        SessionError::Transient(format!("reading the end offset: {e:#}"))
                    })?,
            ),
        })
    }

    /// One round: a stream from `next` to the partition's end, copied chunk by chunk.
    async fn round(
        &self,
        session: &mut Session,
        next: &mut Option<i64>,
    ) -> Result<Round, SessionError> {
        let link = &self.link;
        let start = match *next {
            Some(n) => Offset::absolute(n),
            None => Ok(Offset::beginning()),
        }
        .map_err(|e| SessionError::Transient(format!("resume offset: {e}")))?;
        let config = ConsumerConfigExtBuilder::default()
            .topic(link.topic.clone())
            .partition(self.partition)
            .offset_consumer(link.consumer.clone())
            .offset_start(start)
            .offset_strategy(OffsetManagementStrategy::Manual)
            .disable_continuous(true)
            .max_bytes(session.fetch_bytes)
            .retry_mode(RetryMode::Disabled)
            .build()
            .map_err(|e| SessionError::Transient(format!("consumer config: {e:#}")))?;
        let mut stream = session
            .source
            .consumer_with_config(config)
            .await
            .map_err(|e| {
                SessionError::Transient(format!("opening the stream of '{}': {e:#}", link.topic))
            })?;

        let mut copied = false;
        let mut unflushed = false;
        let mut at_round_start = true;
        loop {
            let (chunk, end) = self
                .read_chunk(&mut stream, *next, &mut at_round_start)
                .await;
            if !chunk.is_empty() {
                if !self.write_chunk(session, &chunk).await? {
                    // Stopped while the write was in flight: it is not committed.
                    flush(&mut stream, &mut unflushed).await?;
                    return Ok(Round::Stopped);
                }
                copied = true;
                let last = chunk.last().map_or(0, |r| r.offset);
                *next = Some(last + 1);
                self.stats.position.store(last + 1, Ordering::Relaxed);
                // The client commits the last record the stream yielded: only when that is
                // the chunk's last record (after a skip the stream has yielded one more).
                if !matches!(end, ChunkEnd::Skipped { .. }) {
                    stream.offset_commit().await.map_err(|e| {
                        SessionError::Transient(format!("committing the offset: {e}"))
                    })?;
                    unflushed = true;
                    if session.last_flush.elapsed() >= link.commit_every {
                        flush(&mut stream, &mut unflushed).await?;
                        session.last_flush = Instant::now();
                    }
                }
            }
            match end {
                ChunkEnd::Full => {}
                ChunkEnd::Ended => {
                    flush(&mut stream, &mut unflushed).await?;
                    session.last_flush = Instant::now();
                    return Ok(if copied { Round::Copied } else { Round::Empty });
                }
                ChunkEnd::Skipped { expected, got } => {
                    // A fetch cut inside a batch, or a hole the topic hook left: reading
                    // again from `expected` tells them apart (a new read starts with the
                    // whole batch that holds it).
                    flush(&mut stream, &mut unflushed).await?;
                    session.rereads += 1;
                    if session.rereads.is_power_of_two() {
                        say(&format!(
                            "link {} partition {}: the stream went from offset {expected} to \
                             {got}; reading again from {expected} ({} time(s) so far)",
                            link.name, self.partition, session.rereads
                        ));
                    }
                    return Ok(Round::Copied);
                }
                ChunkEnd::Stopped => {
                    flush(&mut stream, &mut unflushed).await?;
                    return Ok(Round::Stopped);
                }
                ChunkEnd::Abandoned => return Ok(Round::Stopped),
                ChunkEnd::Failed(why) => {
                    flush(&mut stream, &mut unflushed).await?;
                    return Err(SessionError::Transient(why));
                }
            }
        }
    }

    /// Reads up to the link's batch limits. Offsets must follow each other, except at the
    /// start of a round, where a jump is a hole (see [`ChunkEnd::Skipped`]). A stop during a
    /// read lets the read finish (so the stream is free to store the commits) but leaves what
    /// it brought uncopied.
    async fn read_chunk<S>(
        &self,
        stream: &mut S,
        mut expected: Option<i64>,
        at_round_start: &mut bool,
    ) -> (Vec<SourceRecord>, ChunkEnd)
    where
        S: futures_util::Stream<Item = Result<fluvio::consumer::Record, ErrorCode>> + Unpin,
    {
        let link = &self.link;
        let mut records = Vec::new();
        let mut bytes = 0usize;
        while records.len() < link.batch_records && bytes < link.batch_bytes {
            let item = {
                let read = stream.next();
                let stopped = self.stop.wait();
                futures_util::pin_mut!(stopped);
                match select(read, stopped).await {
                    Either::Left((item, _)) => item,
                    Either::Right(((), read)) => {
                        let grace = fluvio_future::timer::sleep(STOP_GRACE);
                        futures_util::pin_mut!(grace);
                        return match select(read, grace).await {
                            Either::Left(_) => (Vec::new(), ChunkEnd::Stopped),
                            Either::Right(_) => (Vec::new(), ChunkEnd::Abandoned),
                        };
                    }
                }
            };
            match item {
                Some(Ok(r)) => {
                    if let Some(want) = expected {
                        if r.offset != want && !*at_round_start {
                            return (
                                records,
                                ChunkEnd::Skipped {
                                    expected: want,
                                    got: r.offset,
                                },
                            );
                        }
                    }
                    *at_round_start = false;
                    expected = Some(r.offset + 1);
                    let r = to_source(r);
                    bytes += r.size();
                    records.push(r);
                }
                Some(Err(e)) => {
                    return (
                        records,
                        ChunkEnd::Failed(format!("reading '{}': {e}", link.topic)),
                    )
                }
                None => return (records, ChunkEnd::Ended),
            }
        }
        (records, ChunkEnd::Full)
    }

    /// Delivers a chunk, handles its refusals; `false` if a stop cut the write short.
    async fn write_chunk(
        &self,
        session: &mut Session,
        chunk: &[SourceRecord],
    ) -> Result<bool, SessionError> {
        let link = &self.link;
        let stop_at_refusal = link.on_refusal == OnRefusal::Stop;
        let delivery = {
            let work = deliver(&mut session.target, chunk, stop_at_refusal);
            futures_util::pin_mut!(work);
            let stopped = self.stop.wait();
            futures_util::pin_mut!(stopped);
            match select(work, stopped).await {
                Either::Left((d, _)) => d,
                Either::Right(((), work)) => {
                    let grace = fluvio_future::timer::sleep(STOP_GRACE);
                    futures_util::pin_mut!(grace);
                    match select(work, grace).await {
                        Either::Left((d, _)) => d,
                        Either::Right(_) => return Ok(false),
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
            Err(DeliverError::Fatal(f)) => {
                return Err(SessionError::Fatal(Box::new(fatal(link, f))))
            }
        };
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
                return Err(SessionError::Fatal(Box::new(
                    BridgeError::RefusedAndStopped {
                        link: link.name.clone(),
                        partition: self.partition,
                        offset: refusal.record.offset,
                        hint: refusal.hint.clone(),
                    },
                )));
            }
            if let Some(topic) = &link.dead_letter {
                let producer = match session.dead_letters.as_ref() {
                    Some(p) => p,
                    None => session.dead_letters.insert(
                        session
                            .source
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
        Ok(true)
    }
}

/// How a round ended.
enum Round {
    Copied,
    /// The stream held nothing: the partition was at its end when the round began.
    Empty,
    Stopped,
}

/// Why a chunk ended.
enum ChunkEnd {
    Full,
    /// The stream jumped from `expected` to `got`: records in between were not delivered.
    Skipped {
        expected: i64,
        got: i64,
    },
    /// The round's stream reached the partition's end.
    Ended,
    /// A stop came while reading; the read finished and the stream is free.
    Stopped,
    /// A stop came and the read did not finish in time: the stream cannot store commits.
    Abandoned,
    Failed(String),
}

fn dead_letter_error(link: &LinkPlan, topic: &str, e: anyhow::Error) -> SessionError {
    SessionError::Fatal(Box::new(BridgeError::DeadLetter {
        link: link.name.clone(),
        cluster: link.source.id.clone(),
        topic: topic.to_string(),
        detail: format!("{e:#}"),
    }))
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
async fn flush<S: ConsumerStream + ?Sized>(
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
    let chain = invocations(&link.chain).map_err(|e| SessionError::Fatal(Box::new(e.into())))?;
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
        SessionError::Fatal(Box::new(BridgeError::Connect {
            cluster: link.target.id.clone(),
            detail: format!("producer config: {e}"),
        }))
    })
}

/// The target as the delivery logic sees it.
struct FluvioTarget {
    producer: TopicProducerPool,
}

impl Target for FluvioTarget {
    async fn write(&mut self, records: &[SourceRecord]) -> WriteOutcome {
        let write = self.write_now(records);
        futures_util::pin_mut!(write);
        let late = fluvio_future::timer::sleep(ACK_TIMEOUT);
        futures_util::pin_mut!(late);
        match select(write, late).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(_) => WriteOutcome::Transient(format!(
                "no acknowledgement within {} s",
                ACK_TIMEOUT.as_secs()
            )),
        }
    }
}

impl FluvioTarget {
    async fn write_now(&mut self, records: &[SourceRecord]) -> WriteOutcome {
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

/// The partition's end as the bridge counts it: the offset after its last record (a batch
/// the topic hook filtered keeps its offset span, so the next write may start further on).
/// Read from the last records; an empty partition ends at 0.
pub async fn end_offset(source: &Fluvio, topic: &str, partition: u32) -> anyhow::Result<i64> {
    // The last batch may end in a hole: look further back until a record shows.
    for tail in [1u32, 1 << 8, 1 << 16, 1 << 22] {
        let config = ConsumerConfigExtBuilder::default()
            .topic(topic.to_string())
            .partition(partition)
            .offset_start(Offset::from_end(tail))
            .disable_continuous(true)
            .max_bytes(FETCH_BYTES)
            .retry_mode(RetryMode::Disabled)
            .build()?;
        let mut stream = source.consumer_with_config(config).await?;
        let mut last = None;
        while let Some(item) = stream.next().await {
            last = Some(item?.offset);
        }
        if let Some(last) = last {
            return Ok(last + 1);
        }
    }
    Ok(0)
}
