//! Fluvio's native mirroring between two clusters, beside our chains: records a producer-side
//! chain tags on the remote arrive on home with their tags, byte for byte, and Fluvio itself
//! refuses writes on home to the mirror topic, chain or no chain.

use std::time::{Duration, Instant};

use crate::suite::{case, check_doc_block, records, say, start_cluster, tag_of, Produce, Suite};

/// POLICIES.md's line before the native mirroring block.
const MIRROR_MARKER: &str =
    "`--mirror-apply`; producer-side chains around the native mirror, from a real run:";

/// The remote cluster's id, as home registers it and as the tags name it.
const REMOTE: &str = "edge1";

/// How long mirrored records may take to reach home.
const SYNC_DEADLINE: Duration = Duration::from_secs(60);

pub fn chains_around_a_native_mirror(s: &mut Suite) {
    let mut edge = start_cluster(&s.bins, "edge");
    let topic = s.home.unique_topic("sensors");

    // On home: register the remote, create the mirror topic, export the remote's file.
    s.home
        .fluvio_ok(&["remote", "register", REMOTE])
        .unwrap_or_else(|e| panic!("{e}"));
    let remotes = s
        .home
        .write_file("remotes.json", format!("[\"{REMOTE}\"]").as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let remotes = remotes.to_string_lossy().into_owned();
    s.home
        .fluvio_ok(&["topic", "create", &topic, "--mirror-apply", &remotes])
        .unwrap_or_else(|e| panic!("{e}"));
    let export = s.home.dir().join(format!("{REMOTE}.json"));
    let export = export.to_string_lossy().into_owned();
    s.home
        .fluvio_ok(&["remote", "export", REMOTE, "--file", &export])
        .unwrap_or_else(|e| panic!("{e}"));

    // On the remote: connect to home; the mirror topic appears there.
    edge.fluvio_ok(&["home", "connect", "--file", &export])
        .unwrap_or_else(|e| panic!("{e}"));
    edge.wait_partition(&topic)
        .unwrap_or_else(|e| panic!("the mirror topic never reached {REMOTE}: {e}"));

    let mut block = String::new();
    let readings = ["reading 1", "reading 2", "reading 3"];
    let produced = Produce::on(&edge, &topic)
        .shown_as("sensors")
        .transform("origin-tag", &[("cluster", REMOTE)])
        .lines(&readings)
        .run_until_accepted(Duration::from_secs(30));
    let on_edge = records(&edge, &topic, &[]);
    assert_eq!(on_edge.len(), readings.len(), "stored on {REMOTE}");

    let started = Instant::now();
    let on_home = loop {
        let on_home = records(&s.home, &topic, &[]);
        if on_home.len() >= readings.len() || started.elapsed() > SYNC_DEADLINE {
            break on_home;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        on_home,
        on_edge,
        "home holds exactly what {REMOTE} stored (after {:?})",
        started.elapsed()
    );
    say!(
        "broker-tests: mirrored records reached home within {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (record, reading) in on_home.iter().zip(readings) {
        let tag = tag_of(&record.value).expect("mirrored records keep their tags");
        assert_eq!(tag.path, [REMOTE]);
        assert_eq!(tag.payload, reading.as_bytes());
    }
    let first = tag_of(&on_home[0].value).expect("tagged");
    case(
        &mut block,
        &format!("on {REMOTE}: a producer-side chain tags each record"),
        &produced,
        &format!(
            "on home: {} records, byte for byte as stored on {REMOTE}: {}",
            on_home.len(),
            first.summary()
        ),
    );

    // On home: Fluvio refuses producer writes to the mirror topic, before any chain runs.
    for produce in [
        s.produce(&topic)
            .shown_as("sensors")
            .lines(&["typed on home"]),
        s.produce(&topic)
            .shown_as("sensors")
            .transform("origin-tag", &[("cluster", "home")])
            .lines(&["typed on home"]),
    ] {
        let produced = produce.run();
        assert_eq!(produced.out.code, Some(1), "{}", produced.out.describe());
        assert_eq!(
            produced.out.text().trim_end(),
            "Producer error: Producer received an error code: produce from home is not allowed"
        );
        let title = if produced.shell.contains("--transform") {
            "on home: the same through a producer-side chain"
        } else {
            "on home: a producer writes to the mirror topic"
        };
        case(&mut block, title, &produced, "nothing stored");
    }
    assert_eq!(s.stored(&topic), readings.len() as i64);
    check_doc_block(MIRROR_MARKER, &block);

    // A native mirror topic cannot take a topic config, hence no topic hook.
    let config = s
        .home
        .write_file("mirror-config.yaml", b"version: 0.1.0\nmeta:\n  name: x\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let conflict = s
        .home
        .fluvio(
            &[
                "topic",
                "create",
                "--config",
                &config.to_string_lossy(),
                "--mirror-apply",
                &remotes,
            ],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(conflict.code, Some(2), "{}", conflict.describe());
    assert!(
        conflict
            .text()
            .contains("the argument '--config <PATH>' cannot be used with"),
        "{}",
        conflict.describe()
    );

    let report = edge.stop();
    assert!(
        report.left_behind.is_empty() && report.killed.is_empty(),
        "stopping {REMOTE}: {report:?}"
    );
    say!(
        "broker-tests: cluster `edge` stopped in {:.1} s, nothing left behind",
        report.took.as_secs_f64()
    );
}
