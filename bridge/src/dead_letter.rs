//! The record a refused record becomes in the dead-letter topic (on the source cluster): the
//! original key, and as value a JSON document with where it came from, where it was going,
//! the hint, and the original value (base64, since values are bytes).
//!
//! ```json
//! {"link":"east->west","topic":"orders","partition":0,"offset":17,"target":"west",
//!  "target_topic":"orders","hint":"...","key_base64":"azE=","value_base64":"..."}
//! ```

use base64::Engine as _;
use fluvio::RecordKey;
use serde::Serialize;

use crate::config::LinkPlan;
use crate::deliver::Refusal;

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct DeadLetter {
    pub link: String,
    pub topic: String,
    pub partition: u32,
    pub offset: i64,
    pub target: String,
    pub target_topic: String,
    pub hint: String,
    pub key_base64: Option<String>,
    pub value_base64: String,
}

/// A record ready to be produced.
pub struct DeadLetterRecord {
    pub key: RecordKey,
    pub value: Vec<u8>,
}

pub fn envelope(link: &LinkPlan, partition: u32, refusal: &Refusal) -> DeadLetterRecord {
    let b64 = base64::engine::general_purpose::STANDARD;
    let letter = DeadLetter {
        link: link.name.clone(),
        topic: link.topic.clone(),
        partition,
        offset: refusal.record.offset,
        target: link.target.id.clone(),
        target_topic: link.to_topic.clone(),
        hint: refusal.hint.clone(),
        key_base64: refusal.record.key.as_ref().map(|k| b64.encode(k.as_ref())),
        value_base64: b64.encode(refusal.record.value.as_ref()),
    };
    DeadLetterRecord {
        key: match &refusal.record.key {
            Some(k) => RecordKey::from(k.clone()),
            None => RecordKey::NULL,
        },
        // Serialising a struct of strings and numbers cannot fail.
        value: serde_json::to_vec(&letter).unwrap_or_default(),
    }
}
