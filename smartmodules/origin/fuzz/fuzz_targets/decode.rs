//! Feeds arbitrary bytes to `origin::decode`. Decoding must never panic, and a
//! decoded tag must re-encode to exactly the input (tags have one encoding).
//! Tagged inputs also go through a hop and a seal/verify round.
#![no_main]

use libfuzzer_sys::fuzz_target;
use origin::{decode, wrap, Decoded, MAGIC};

fuzz_target!(|data: &[u8]| {
    match decode(data) {
        Ok(Decoded::Untagged) => assert!(!data.starts_with(&MAGIC)),
        Err(_) => assert!(data.starts_with(&MAGIC)),
        Ok(Decoded::Tagged { envelope, payload }) => {
            assert_eq!(wrap(&envelope, payload), data, "re-encoding differs");
            assert_eq!(envelope.encoded_len() + payload.len(), data.len());
            assert_eq!(envelope.hops() as usize + 1, envelope.path().len());

            if let Ok(mut next) = envelope.with_hop("fuzz-hop") {
                next.seal(b"fuzz secret", payload);
                let bytes = wrap(&next, payload);
                match decode(&bytes) {
                    Ok(Decoded::Tagged {
                        envelope: again,
                        payload: p,
                    }) => {
                        assert_eq!(again, next);
                        assert_eq!(p, payload);
                        assert_eq!(again.verify(b"fuzz secret", p), Ok(()));
                    }
                    other => panic!("hop did not decode: {other:?}"),
                }
            }
        }
    }
});
