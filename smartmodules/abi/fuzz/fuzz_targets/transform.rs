//! Arbitrary bytes as a host's input to every entry point, for every input version: the guest
//! never panics, and a pass-through writes back exactly the records it could read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirror_policy::MirrorPolicy;
use policy::guest::Guest;
use smartmodule_abi::{run_init, run_look_back, run_transform, Emit, Input, Kind, Params, Record, SmartModule};

struct Pass;

impl SmartModule for Pass {
    const KIND: Kind = Kind::Filter;
    fn init(_: &Params<'_>) -> Result<Self, String> {
        Ok(Pass)
    }
    fn process(&mut self, _: &Record<'_, '_>, out: &mut Emit<'_, '_, '_, '_>) -> Result<(), String> {
        out.pass();
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&v, input)) = data.split_first() else { return };
    let version = u32::from(v % 12) + 14;
    let mut out = Vec::new();

    let mut pass = Some(Pass);
    assert_eq!(run_transform(&mut pass, input, version, &mut out), 0);
    if let Ok(batch) = Input::decode(input, version) {
        if let Ok(records) = batch.records() {
            let read: Vec<&[u8]> = records.map_while(Result::ok).map(|r| r.raw).collect();
            assert_eq!(out[..4], (read.len() as u32).to_be_bytes());
            assert_eq!(out[4..4 + read.iter().map(|r| r.len()).sum::<usize>()], read.concat()[..]);
        }
    }

    let mut policy: Option<Guest<MirrorPolicy>> = None;
    let _ = run_init(&mut policy, input, version, &mut out);
    let mut policy: Option<Guest<MirrorPolicy>> = None;
    let params = Params::from_pairs(&[("cluster", "home"), ("mirror_of", "edge-1"), ("mode", "audit"), ("secret", "s")]);
    policy = Guest::<MirrorPolicy>::init(&params).ok().or(policy);
    assert_eq!(run_transform(&mut policy, input, version, &mut out), 0);
    let _ = run_look_back(&mut policy, input, version, &mut out);
});
