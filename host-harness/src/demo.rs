//! `harness demo`: a short story on the built policy modules, run exactly as a broker would
//! run them. Orders are produced on cluster `edge-1`, bridged to `home`, copied again over a
//! second route, written by hand on `home`, and bridged back to `edge-1`; each write goes
//! through that cluster's real write path and the output says what happened to every record.

use std::fmt::Write as _;
use std::path::Path;

use crate::tag::{decode_tag, TagState};
use crate::{
    Batch, Chain, ChainOptions, Engine, Fate, HarnessError, ModuleResolver, ModuleSpec, Record,
    RecordData,
};

/// The modules the story needs, by crate name.
pub const MODULES: [&str; 3] = ["origin-tag", "mirror-policy", "origin-strip"];

/// A write path: a one-module chain built from the modules directory.
fn write_path(
    engine: &Engine,
    resolver: &ModuleResolver,
    module: &str,
    params: &[(&str, &str)],
) -> Result<Chain, HarnessError> {
    let path = resolver.resolve(module)?;
    let mut spec = ModuleSpec::from_file(&path)?;
    for (k, v) in params {
        spec = spec.param(*k, *v);
    }
    Ok(Chain::new(engine, &[spec], &ChainOptions::default())?)
}

fn show(value: &[u8]) -> String {
    match decode_tag(value) {
        TagState::Tagged { tag, payload } => format!(
            "{:<24} origin={} path={} hops={}{}",
            format!("{:?}", String::from_utf8_lossy(&payload)),
            tag.origin,
            tag.path.join(">"),
            tag.hops,
            if tag.violation { " VIOLATION" } else { "" }
        ),
        TagState::Untagged => format!("{:?}", String::from_utf8_lossy(value)),
        TagState::Malformed { error } => format!("malformed tag: {error}"),
    }
}

/// Writes `records` through `chain` and reports each record's fate and what got stored.
fn write(out: &mut String, chain: &mut Chain, records: Vec<Record>) -> Vec<Record> {
    let batch = Batch::new(records, 0, 1_700_000_000_000);
    let run = chain.run(&batch);
    for (input, fate) in batch.records.iter().zip(&run.fates) {
        let verdict = match &fate.fate {
            Fate::Passed | Fate::Changed => "stored  ".to_string(),
            Fate::Dropped { .. } => "dropped ".to_string(),
            other => format!("{other}\n           "),
        };
        let _ = writeln!(out, "    {verdict} {}", show(input.value.as_ref()));
        for o in &fate.outputs {
            let _ = writeln!(out, "          -> {}", show(o.value.as_ref()));
        }
    }
    run.output().to_vec()
}

fn values(values: &[&str]) -> Vec<Record> {
    values
        .iter()
        .map(|v| Record::new(RecordData::from(v.as_bytes().to_vec())))
        .collect()
}

/// Runs the story on the modules in `modules_dir` and returns the text to print.
pub fn run(modules_dir: &Path) -> Result<String, HarnessError> {
    let resolver = ModuleResolver::new(modules_dir);
    let engine = Engine::shared()?;
    let mut out = String::new();
    let home_params = [
        ("cluster", "home"),
        ("mirror_of", "edge-1"),
        ("topic", "orders"),
        ("dedup", "1000"),
    ];
    let mut edge_tag = write_path(&engine, &resolver, "origin-tag", &[("cluster", "edge-1")])?;
    let mut home = write_path(&engine, &resolver, "mirror-policy", &home_params)?;
    let mut edge_back = write_path(
        &engine,
        &resolver,
        "mirror-policy",
        &[("cluster", "edge-1")],
    )?;
    let mut consumer = write_path(&engine, &resolver, "origin-strip", &[])?;

    let _ = writeln!(
        out,
        "Topic `orders` is produced on cluster edge-1 and bridged to cluster home."
    );
    let _ = writeln!(out, "  edge-1 write path: origin-tag cluster=edge-1");
    let _ = writeln!(out, "  home write path:   mirror-policy cluster=home mirror_of=edge-1 topic=orders dedup=1000\n");

    let _ = writeln!(
        out,
        "1. A producer on edge-1 writes three orders; each is tagged with its origin."
    );
    let on_edge = write(
        &mut out,
        &mut edge_tag,
        values(&["order 1: 2 apples", "order 2: 1 pear", "order 3: 5 plums"]),
    );

    let _ = writeln!(
        out,
        "\n2. The bridge copies them to home: mirror traffic, accepted, one hop added."
    );
    let on_home = write(&mut out, &mut home, on_edge.clone());

    let _ = writeln!(out, "\n3. The bridge restarts and replays order 1 from its last committed offset: a duplicate, dropped.");
    write(&mut out, &mut home, on_edge[..1].to_vec());

    let _ = writeln!(
        out,
        "\n4. Someone produces straight to home's mirror topic: refused, with a message."
    );
    write(&mut out, &mut home, values(&["order 4: typed on home"]));

    let _ = writeln!(
        out,
        "\n5. A bridge from home back to edge-1 would loop the orders: stopped on edge-1."
    );
    let _ = writeln!(
        out,
        "   (edge-1's topic hook: mirror-policy cluster=edge-1)"
    );
    write(&mut out, &mut edge_back, on_home.clone());

    let _ = writeln!(
        out,
        "\n6. A consumer on home strips the tags: the producer's values, byte for byte."
    );
    let consumed = consumer.run(&Batch::new(on_home, 0, 0));
    for r in consumed.output() {
        let _ = writeln!(out, "    {:?}", String::from_utf8_lossy(r.value.as_ref()));
    }
    Ok(out)
}
