//! The threat model of docs/POLICIES.md, row by row: each attack a hostile producer can try,
//! run in the official engine (`fluvio-smartengine`) against the modules as a broker loads
//! them, with a secret on every cluster (refused or dropped) and, where the table says so,
//! without one (where nothing can stop it).

use fluvio_protocol::record::Record;
use fluvio_smartengine::{
    Lookback, SmartEngine, SmartModuleChainBuilder, SmartModuleChainInstance, SmartModuleConfig,
};
use host_harness::{Batch, Chain, ChainOptions, Engine, ModuleSpec};
use origin::{decode, record_id, wrap, Binding, Carrier, Decoded, Envelope, SealKey};

use crate::common::*;

const TS: i64 = 1_700_000_000_000;
const SECRET: &str = "shared-secret-of-all-clusters";

fn chain(module: &str, params: &[(&str, &str)]) -> SmartModuleChainInstance {
    official_chain(integration::wasm(module), params, 22)
        .unwrap_or_else(|e| panic!("{module} {params:?}: {e}"))
}

/// One batch at base offset 100; the records written and the refusal's hint.
fn write(c: &mut SmartModuleChainInstance, records: Vec<Record>) -> (Vec<Record>, Option<String>) {
    let out = process(c, records, 100, TS, 22);
    (out.successes, out.error.map(|e| e.hint))
}

/// The value of `path`'s tag (origin first) in front of `payload`, sealed with `secret` for
/// `scope`, a record whose key is `key`, tag in the value.
fn sealed_value(path: &[&str], payload: &[u8], key: Option<&[u8]>, scope: &str) -> Vec<u8> {
    let mut env = Envelope::new_origin(path[0], TS, [7; 8]).unwrap();
    for hop in &path[1..] {
        env = env.with_hop(hop).unwrap();
    }
    let k = SealKey::new(SECRET.as_bytes(), scope).unwrap();
    env.seal(&k, &Binding::of(Carrier::Value, key, payload), payload);
    wrap(&env, payload)
}

fn guard(extra: &[(&'static str, &'static str)]) -> SmartModuleChainInstance {
    let mut params = vec![
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("secret", SECRET),
    ];
    params.extend_from_slice(extra);
    chain("mirror-guard", &params)
}

/// A tag claiming an upstream origin, without a MAC or under another secret.
#[test]
fn a_forged_tag_passes_only_where_no_secret_is_set() {
    let unsealed = wrap(&Envelope::new_origin("edge-1", TS, [1; 8]).unwrap(), b"x");
    let mut other = Envelope::new_origin("edge-1", TS, [1; 8]).unwrap();
    let wrong = SealKey::new(b"a different secret!!", "").unwrap();
    other.seal(&wrong, &Binding::of(Carrier::Value, None, b"x"), b"x");
    for forged in [unsealed.clone(), wrap(&other, b"x")] {
        let (out, hint) = write(&mut guard(&[]), vec![record(None, &forged, 0, 0)]);
        assert!(out.is_empty(), "refused with a secret");
        assert!(hint.unwrap().contains("has an invalid origin tag"));
    }
    // Without a secret a tag is a claim anybody can write: it passes as mirror traffic.
    let mut open = chain(
        "mirror-guard",
        &[("cluster", "home"), ("mirror_of", "edge-1")],
    );
    let (out, hint) = write(&mut open, vec![record(None, &unsealed, 0, 0)]);
    assert!(hint.is_none() && out.len() == 1);
}

/// `carrier=key`: the sealed key of `pay 10 to alice` copied onto another value.
#[test]
fn a_sealed_key_cut_and_pasted_onto_another_value_is_refused() {
    let params = &[
        ("cluster", "edge-1"),
        ("secret", SECRET),
        ("carrier", "key"),
    ];
    let mut tag = chain("origin-tag", params);
    let (out, _) = write(&mut tag, vec![record(Some(b"k"), b"pay 10 to alice", 0, 0)]);
    let sealed_key = out[0].key.as_ref().unwrap().as_ref().to_vec();
    let mut home = guard(&[("carrier", "key")]);
    let genuine = record(Some(&sealed_key), b"pay 10 to alice", 0, 0);
    assert_eq!(
        write(&mut home, vec![genuine]).0.len(),
        1,
        "the genuine record"
    );
    let pasted = record(Some(&sealed_key), b"pay 10000 to mallory", 0, 0);
    let (out, hint) = write(&mut home, vec![pasted]);
    assert!(out.is_empty());
    assert!(hint.unwrap().contains("MAC does not verify"));
}

/// `carrier=value`: a sealed value replayed under another key, or none.
#[test]
fn a_sealed_value_under_another_key_is_refused() {
    let value = sealed_value(&["edge-1"], b"reading", Some(b"k1"), "");
    let mut home = guard(&[]);
    assert_eq!(
        write(&mut home, vec![record(Some(b"k1"), &value, 0, 0)])
            .0
            .len(),
        1
    );
    for key in [Some(&b"k2"[..]), None] {
        let (out, hint) = write(&mut home, vec![record(key, &value, 0, 0)]);
        assert!(out.is_empty() && hint.is_some(), "{key:?}");
    }
}

/// With a de-duplication window, the attacker's copy under another key would otherwise be
/// stored first and the genuine record then dropped as its duplicate.
#[test]
fn a_key_swapped_copy_cannot_make_the_genuine_record_a_duplicate() {
    let value = sealed_value(&["edge-1"], b"reading", Some(b"k1"), "");
    let mut home = chain(
        "mirror-policy",
        &[("cluster", "home"), ("secret", SECRET), ("dedup", "100")],
    );
    let (_, hint) = write(&mut home, vec![record(Some(b"attacker"), &value, 0, 0)]);
    assert!(hint.is_some(), "the copy is refused");
    let (out, hint) = write(&mut home, vec![record(Some(b"k1"), &value, 0, 0)]);
    assert!(
        hint.is_none() && out.len() == 1,
        "the genuine record is stored"
    );
}

/// A key sealed under `carrier=key`, moved into the value of a `carrier=value` topic.
#[test]
fn a_tag_moved_to_the_other_carrier_is_refused() {
    let params = &[
        ("cluster", "edge-1"),
        ("secret", SECRET),
        ("carrier", "key"),
    ];
    let (out, _) = write(
        &mut chain("origin-tag", params),
        vec![record(Some(b"k"), b"v", 0, 0)],
    );
    let sealed_key = out[0].key.as_ref().unwrap().as_ref().to_vec();
    let (out, hint) = write(&mut guard(&[]), vec![record(Some(b"v"), &sealed_key, 0, 0)]);
    assert!(out.is_empty() && hint.is_some());
}

/// Two data sets whose clusters share the secret: a record sealed for one is refused by the
/// other's guard.
#[test]
fn a_record_sealed_for_one_scope_is_refused_in_another() {
    let orders = sealed_value(&["edge-1"], b"x", None, "orders");
    let (out, _) = write(
        &mut guard(&[("scope", "orders")]),
        vec![record(None, &orders, 0, 0)],
    );
    assert_eq!(out.len(), 1);
    let mut payments = guard(&[("scope", "payments")]);
    let (out, hint) = write(&mut payments, vec![record(None, &orders, 0, 0)]);
    assert!(out.is_empty() && hint.unwrap().contains("MAC does not verify"));
}

/// A genuine record sent again: inside the window it is a duplicate; past it, `max_age`
/// (measured from its origin timestamp to its own) stops it.
#[test]
fn a_replay_is_dropped_inside_the_window_and_past_it_by_max_age() {
    let value = sealed_value(&["edge-1"], b"x", None, "");
    let mut home = chain(
        "mirror-policy",
        &[
            ("cluster", "home"),
            ("secret", SECRET),
            ("dedup", "2"),
            ("max_age", "10m"),
        ],
    );
    assert_eq!(
        write(&mut home, vec![record(None, &value, 0, 1_000)])
            .0
            .len(),
        1
    );
    assert!(write(&mut home, vec![record(None, &value, 0, 2_000)])
        .0
        .is_empty());
    // Two other records push it out of the window of two.
    for i in 0..2u8 {
        let mut env = Envelope::new_origin("edge-1", TS, [i; 8]).unwrap();
        let k = SealKey::new(SECRET.as_bytes(), "").unwrap();
        env.seal(&k, &Binding::of(Carrier::Value, None, b"o"), b"o");
        let (out, _) = write(&mut home, vec![record(None, &wrap(&env, b"o"), 0, 3_000)]);
        assert_eq!(out.len(), 1);
    }
    let (out, _) = write(&mut home, vec![record(None, &value, 0, 700_000)]);
    assert!(
        out.is_empty(),
        "past the window, 11 minutes late: stopped by max_age"
    );
    let mut reject = chain(
        "mirror-policy",
        &[
            ("cluster", "home"),
            ("secret", SECRET),
            ("max_age", "10m"),
            ("on_loop", "reject"),
        ],
    );
    let (_, hint) = write(&mut reject, vec![record(None, &value, 0, 700_000)]);
    assert_eq!(
        hint.unwrap(),
        "mirror-policy: record at offset 100 arrived 700000 ms after its origin timestamp, \
         past max_age=10m (path: edge-1)"
    );
}

/// Constants of the unkeyed record-id hash (docs/FORMAT.md §6).
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const P1: u64 = 0x9e37_79b1_85eb_ca87;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;

fn inverse(a: u64) -> u64 {
    // Newton's iteration for the inverse of an odd number mod 2^64.
    (0..6).fold(a, |x, _| {
        x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)))
    })
}

fn round(acc: u64, w: u64) -> u64 {
    acc.wrapping_add(w.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn unfmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(inverse(0xc4ce_b9fe_1a85_ec53));
    k ^= k >> 33;
    k = k.wrapping_mul(inverse(0xff51_afd7_ed55_8ccd));
    k ^ (k >> 33)
}

/// A value for a record of `origin` at `timestamp` and `offset` (no key) whose unkeyed record
/// id is `target`: the hash is invertible, so its last 8 bytes are solved for.
fn aimed_value(origin: &str, timestamp: i64, offset: i64, target: [u8; 8]) -> Vec<u8> {
    // FORMAT.md §6: the origin block in whole words, timestamp, offset, no key (a zero word).
    let mut prefix = vec![origin.len() as u8];
    prefix.extend_from_slice(origin.as_bytes());
    while !prefix.len().is_multiple_of(8) {
        prefix.push(0);
    }
    prefix.extend_from_slice(&timestamp.to_le_bytes());
    prefix.extend_from_slice(&offset.to_le_bytes());
    prefix.extend_from_slice(&0u64.to_le_bytes());
    let mut value = b"aimed:".to_vec();
    while !(prefix.len() + value.len()).is_multiple_of(8) {
        value.push(b'.');
    }
    let head = [prefix, value.clone()].concat();
    let acc = head.chunks_exact(8).fold(SEED, |acc, w| {
        round(acc, u64::from_le_bytes(w.try_into().unwrap()))
    });
    let len = head.len() as u64 + 8;
    // id = fmix64(round(round(acc, w), 0) ^ len): undo each step.
    let last = unfmix(u64::from_le_bytes(target)) ^ len;
    let after_w = last.wrapping_mul(inverse(P1)).rotate_right(31);
    let w = after_w
        .wrapping_mul(inverse(P1))
        .rotate_right(31)
        .wrapping_sub(acc)
        .wrapping_mul(inverse(P2));
    value.extend_from_slice(&w.to_le_bytes());
    value
}

/// A producer who knows a record to come writes, before it, a record whose id is aimed at
/// the other's: without a secret the genuine record is later dropped as a duplicate; with one,
/// ids are keyed and cannot be aimed.
#[test]
fn an_aimed_record_id_drops_the_genuine_record_only_without_a_secret() {
    let genuine = b"order 42: 3 pears".to_vec();
    // The genuine record is the batch's second (offset 101), the aimed one its first.
    let target = record_id("edge-1", TS, 101, None, &genuine);
    let aimed = aimed_value("edge-1", TS, 100, target);
    assert_ne!(aimed, genuine);
    assert_eq!(record_id("edge-1", TS, 100, None, &aimed), target, "aimed");
    for secret in [None, Some(SECRET)] {
        let mut edge = vec![("cluster", "edge-1")];
        let mut home = vec![("cluster", "home"), ("dedup", "100")];
        if let Some(s) = secret {
            edge.push(("secret", s));
            home.push(("secret", s));
        }
        let (tagged, _) = write(
            &mut chain("origin-tag", &edge),
            vec![record(None, &aimed, 0, 0), record(None, &genuine, 1, 0)],
        );
        let (stored, _) = write(&mut chain("mirror-policy", &home), tagged);
        let expected = if secret.is_some() { 2 } else { 1 };
        assert_eq!(stored.len(), expected, "secret {secret:?}");
    }
}

/// A local write on a cluster in audit mode is sealed there with the VIOLATION flag; no guard
/// downstream takes it for mirror traffic, whatever its origin and path.
#[test]
fn a_record_flagged_in_audit_mode_is_never_mirror_traffic_downstream() {
    let mut home = chain(
        "mirror-policy",
        &[
            ("cluster", "home"),
            ("mirror_of", "edge-1"),
            ("mode", "audit"),
            ("secret", SECRET),
        ],
    );
    let (out, _) = write(&mut home, vec![record(None, b"typed on home", 0, 0)]);
    let flagged = out[0].value.as_ref().to_vec();
    for mode in ["reject", "drop"] {
        let mut far = chain(
            "mirror-policy",
            &[
                ("cluster", "far"),
                ("mirror_of", "home"),
                ("mode", mode),
                ("secret", SECRET),
            ],
        );
        let (out, hint) = write(&mut far, vec![record(None, &flagged, 0, 0)]);
        assert!(out.is_empty(), "{mode}: not stored");
        assert_eq!(hint.is_some(), mode == "reject");
    }
}

#[test]
fn a_weak_secret_is_refused_at_init() {
    let Err(e) = official_chain(
        integration::wasm("loop-guard"),
        &[("cluster", "a"), ("secret", "a")],
        22,
    ) else {
        panic!("a 1-byte secret was accepted");
    };
    assert!(
        e.starts_with("loop-guard: bad param 'secret'='***': shorter than 16 bytes"),
        "{e}"
    );
}

/// The stored records a restart replays into the window are checked like live ones: a forged
/// one cannot make a genuine record a duplicate.
#[test]
fn look_back_remembers_only_tags_that_verify() {
    let genuine = sealed_value(&["edge-1"], b"x", None, "");
    let forged = {
        let Ok(Decoded::Tagged { envelope, payload }) = decode(&genuine) else {
            unreachable!()
        };
        // The same origin and id, no MAC.
        let env = Envelope::from_parts(0, envelope.path(), TS, envelope.id(), None).unwrap();
        wrap(&env, payload)
    };
    let engine = SmartEngine::new();
    let mut config = SmartModuleConfig::builder();
    config
        .smartmodule_names(vec!["mirror-policy".to_string()])
        .version(22i16)
        .lookback(Some(Lookback::Last(100)));
    for (k, v) in [("cluster", "home"), ("secret", SECRET), ("dedup", "100")] {
        config.param(k, v);
    }
    let mut builder = SmartModuleChainBuilder::default();
    builder.add_smart_module(config.build().unwrap(), integration::wasm("mirror-policy"));
    let mut home = builder.initialize(&engine).unwrap();
    let stored = vec![record(None, &forged, 0, 0)];
    block_on(home.look_back(move |_| {
        let records = stored.clone();
        async move { Ok(records) }
    }))
    .expect("look_back");
    let (out, hint) = write(&mut home, vec![record(None, &genuine, 0, 0)]);
    assert!(
        hint.is_none() && out.len() == 1,
        "not a duplicate of a forgery"
    );
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Fuel one batch of 2,000 tagged records costs mirror-policy's window, in the harness.
fn fuel_for(ids: impl Iterator<Item = u64>) -> u64 {
    let spec = ModuleSpec::new("mirror-policy", integration::wasm("mirror-policy"))
        .param("cluster", "home")
        .param("dedup", "10000");
    let mut chain = Chain::new(&Engine::new().unwrap(), &[spec], &ChainOptions::default()).unwrap();
    let records = ids
        .map(|id| {
            let env = Envelope::new_origin("edge-1", TS, id.to_le_bytes()).unwrap();
            fluvio_protocol::record::Record::new(wrap(&env, b"v"))
        })
        .collect();
    let run = chain.run(&Batch::new(records, 0, TS));
    assert!(run.outcome.is_written());
    assert_eq!(run.output().len(), 2_000, "every record is new");
    run.steps[0].fuel
}

/// Ids forged to share their low 16 bits, which under an unkeyed slot function would all
/// land in one probe run: the window's cost per record stays within twice that of random
/// ids (fuel counts wasm instructions, so the comparison is exact, not timed).
#[test]
fn a_flood_of_colliding_ids_costs_the_window_what_random_ids_do() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random = fuel_for((0..2_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }));
    let colliding = fuel_for((0..2_000u64).map(|i| i << 16 | 0xBEEF));
    assert!(
        colliding < 2 * random,
        "colliding ids {colliding} fuel, random {random}"
    );
}
