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

/// `append`: each value comes back with `bytes` constant bytes in front of it (`tagged_bytes`
/// when it starts with the tag magic), key, offsets and timestamps untouched.
#[test]
fn append_prepends_its_bytes_to_every_value_in_the_official_engine() {
    let wasm = integration::wasm("append");
    let tagged = integration::tagged(&["up"], b"payload", None);
    for (params, untagged_n, tagged_n) in [
        (vec![], 27, 6),
        (vec![("bytes", "43")], 43, 6),
        (vec![("bytes", "0"), ("tagged_bytes", "100")], 0, 100),
    ] {
        for version in VERSIONS {
            let mut chain = official_chain(wasm.clone(), &params, version).expect("chain builds");
            let mut input = corpus();
            input.push(record(Some(b"k"), &tagged, 300, 7));
            let output = process(&mut chain, input.clone(), 1000, 1_700_000_000_000, version);
            assert!(output.error.is_none(), "v{version}: {:?}", output.error);
            assert_eq!(output.successes.len(), input.len(), "v{version}");
            for (i, (inp, out)) in input.iter().zip(&output.successes).enumerate() {
                let value = inp.value.as_ref();
                let n = if value.starts_with(&[0xff, 0x6f]) {
                    tagged_n
                } else {
                    untagged_n
                };
                let mut expected = vec![0u8; n];
                expected.extend_from_slice(value);
                assert_eq!(
                    out.value.as_ref(),
                    expected,
                    "v{version} {params:?} record {i}"
                );
                assert_eq!(out.key, inp.key, "v{version} {params:?} record {i}");
                assert_eq!(
                    (
                        out.preamble.offset_delta(),
                        out.preamble.get_timestamp_delta()
                    ),
                    (
                        inp.preamble.offset_delta(),
                        inp.preamble.get_timestamp_delta()
                    ),
                    "v{version} {params:?} record {i}"
                );
            }
        }
    }
}

#[test]
fn append_refuses_a_bad_byte_count_at_init() {
    let wasm = integration::wasm("append");
    for (name, value) in [
        ("bytes", "-1"),
        ("bytes", "many"),
        ("bytes", ""),
        ("tagged_bytes", "65537"),
        ("tagged_bytes", "99999999999999999999999"),
    ] {
        let e = match official_chain(wasm.clone(), &[(name, value)], 22) {
            Ok(_) => panic!("append {name}={value:?} must fail at init"),
            Err(e) => e,
        };
        assert!(
            e.contains(&format!("the param {name} wants a number of bytes")),
            "{name}={value:?}: {e}"
        );
    }
    assert!(official_chain(wasm, &[("bytes", "65536")], 22).is_ok());
}
