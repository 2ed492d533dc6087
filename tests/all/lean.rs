//! The modules built without MAC code (`cargo build-modules-lean`): smaller, with no SHA-256 in
//! them, deciding exactly as the full builds on every config without a `secret`, and refusing
//! a `secret` at init with the fix in the message.

use crate::common::*;
use crate::conformance::{batches, modules};

/// What the size goal allows a module without MAC code (the full builds get 60 KiB).
const MAX_LEAN_BYTES: usize = 40 * 1024;

#[test]
fn lean_builds_are_small_and_carry_no_mac_code() {
    for name in integration::POLICY_MODULES {
        let lean = integration::lean_wasm(name);
        let full = integration::wasm(name);
        println!("{name:<16} {:>8} {:>8}", lean.len(), full.len());
        assert!(
            !integration::has_mac_code(&lean),
            "{name} (lean) has MAC code"
        );
        assert!(
            lean.len() <= MAX_LEAN_BYTES,
            "{name} (lean) is {} bytes, over {MAX_LEAN_BYTES}",
            lean.len()
        );
        // origin-strip never checks a MAC: its full build leaves the code out too, and the
        // two builds are the same but for a few bytes.
        let strip = *name == "origin-strip";
        assert_eq!(
            integration::has_mac_code(&full),
            !strip,
            "{name}: MAC code in the full build"
        );
        assert!(
            strip || lean.len() < full.len(),
            "{name}: the lean build is not smaller"
        );
    }
}

#[test]
fn lean_builds_decide_as_the_full_builds() {
    let batches = batches();
    let mut compared = 0;
    for (label, full, params) in modules() {
        let crate_name = label.split([' ', '+']).next().unwrap_or(label);
        if !integration::POLICY_MODULES.contains(&crate_name)
            || params.iter().any(|(k, _)| *k == "secret")
        {
            continue;
        }
        let lean = integration::lean_wasm(crate_name);
        for version in [18, 22] {
            let mut a = official_chain(full.clone(), &params, version).expect("full build");
            let mut b = official_chain(lean.clone(), &params, version).expect("lean build");
            for (i, batch) in batches.iter().enumerate() {
                let x = process(&mut a, batch.clone(), 500, 1_700_000_000_000, version);
                let y = process(&mut b, batch.clone(), 500, 1_700_000_000_000, version);
                assert_eq!(x.error, y.error, "{label} v{version} batch {i}: errors");
                assert_eq!(
                    encode_records(&x.successes),
                    encode_records(&y.successes),
                    "{label} v{version} batch {i}: outputs"
                );
                compared += 1;
            }
        }
    }
    // Every config of the conformance suite's own modules but those with a secret.
    assert_eq!(compared, 10 * 2 * batches.len());
}

#[test]
fn lean_builds_refuse_a_secret_and_say_how_to_fix_it() {
    for name in [
        "origin-tag",
        "loop-guard",
        "mirror-guard",
        "mirror-policy",
        "origin-stats",
        "origin-inspect",
    ] {
        let mut params = vec![("secret", "s3cret-of-16-bytes")];
        if !matches!(name, "origin-stats" | "origin-inspect") {
            params.push(("cluster", "home"));
        }
        if name == "mirror-guard" {
            params.push(("mirror_of", "up"));
        }
        let err = official_chain(integration::lean_wasm(name), &params, 22)
            .expect_err("a lean build refuses a secret");
        assert!(
            err.contains(&format!(
                "{name}: param 'secret' needs MAC support, which this build of the module \
                 leaves out; deploy the build with it (cargo build-modules), or drop the param"
            )),
            "{name}: {err}"
        );
        // The full build takes the same params.
        official_chain(integration::wasm(name), &params, 22).expect("full build");
    }
    // origin-strip takes no secret in any build.
    let err = official_chain(
        integration::lean_wasm("origin-strip"),
        &[("secret", "secret-of-16-bytes")],
        22,
    )
    .expect_err("origin-strip takes no secret");
    assert!(err.contains("unknown param 'secret'"), "{err}");
}
