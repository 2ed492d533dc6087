//! A module built with this workspace's ABI crate runs in the official engine and hands back
//! exactly the records it was given, for every input version the engine can send.

use crate::common::*;

#[test]
fn passthrough_returns_every_record_unchanged_in_the_official_engine() {
    let wasm = integration::wasm("passthrough");
    for version in VERSIONS {
        let mut chain = official_chain(wasm.clone(), &[], version).expect("chain builds");
        let input = corpus();
        let output = process(&mut chain, input.clone(), 1000, 1_700_000_000_000, version);
        assert!(output.error.is_none(), "v{version}: {:?}", output.error);
        assert_eq!(
            encode_records(&output.successes),
            encode_records(&input),
            "v{version}: records differ"
        );
    }
}

#[test]
fn passthrough_handles_empty_batches_and_repeated_calls() {
    let wasm = integration::wasm("passthrough");
    let mut chain = official_chain(wasm, &[], 22).expect("chain builds");
    for round in 0..50 {
        let input: Vec<_> = (0..round)
            .map(|i| record(None, &[i as u8; 3], i, 0))
            .collect();
        let output = process(&mut chain, input.clone(), round, 0, 22);
        assert_eq!(
            encode_records(&output.successes),
            encode_records(&input),
            "round {round}"
        );
    }
}

#[test]
fn passthrough_accepts_params_it_does_not_use() {
    let wasm = integration::wasm("passthrough");
    for version in VERSIONS {
        let mut chain =
            official_chain(wasm.clone(), &[("a", "1"), ("b", "two")], version).expect("chain");
        let output = process(&mut chain, vec![record(None, b"x", 0, 0)], 0, 0, version);
        assert_eq!(output.successes.len(), 1);
    }
}
