//! What every scenario shares: the running cluster with the policy modules registered, ways
//! to produce and read records, tag facts through the codec's decode API, and the
//! documentation's example blocks as fixtures.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use broker_tests::{
    fenced_block_after, normalise_block, replace_block, Cluster, CmdOutput, ConsumedRecord,
    FluvioBins,
};

/// Writes a line to stderr without going through libtest's output capture, so progress and
/// figures show in a plain `cargo test` run.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use say;

/// Rewrites the documentation's blocks from the run instead of comparing them.
const BLESS: &str = "BROKER_BLESS";

/// The shared state of the run: one cluster (`home`) for all scenarios.
pub struct Suite {
    pub bins: FluvioBins,
    pub home: Cluster,
}

impl Suite {
    /// Starts the `home` cluster and registers the modules on it.
    pub fn start(bins: FluvioBins) -> Suite {
        let home = start_cluster(&bins, "home");
        Suite { bins, home }
    }

    /// `fluvio produce`: the command as run, and as the docs show it.
    pub fn produce<'a>(&'a self, topic: &'a str) -> Produce<'a> {
        Produce::on(&self.home, topic)
    }

    /// Every record of `topic` with its key and exact value.
    pub fn records(&self, topic: &str) -> Vec<ConsumedRecord> {
        records(&self.home, topic, &[])
    }

    /// Every record's value of `topic`, read through `extra` arguments, keys not read: for
    /// keys that carry a binary tag, which the CLI cannot print exactly.
    pub fn values(&self, topic: &str, extra: &[&str]) -> Vec<Vec<u8>> {
        self.home
            .consume_all(topic, false, extra)
            .unwrap_or_else(|e| panic!("cannot consume {topic}: {e}"))
            .into_iter()
            .map(|r| r.value)
            .collect()
    }

    /// How many records partition 0 of `topic` holds.
    pub fn stored(&self, topic: &str) -> i64 {
        self.home
            .stored_count(topic)
            .unwrap_or_else(|e| panic!("cannot read the end offset of {topic}: {e}"))
    }

    pub fn create_topic(&mut self, prefix: &str) -> String {
        let topic = self.home.unique_topic(prefix);
        self.home
            .create_topic(&topic)
            .unwrap_or_else(|e| panic!("cannot create topic {topic}: {e}"));
        topic
    }

    /// Values tagged by a chain of origin-tag, one per cluster of `path` (origin first), as a
    /// producer-side chain stores them: the bytes a bridge would copy to another cluster.
    pub fn tagged_on(&mut self, path: &[&str], values: &[&str]) -> Vec<Vec<u8>> {
        let scratch = self.create_topic("scratch");
        let mut produce = self.produce(&scratch).lines(values);
        for cluster in path {
            produce = produce.transform("origin-tag", &[("cluster", cluster)]);
        }
        produce.run().expect_ok();
        let stored: Vec<Vec<u8>> = self
            .records(&scratch)
            .into_iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(stored.len(), values.len(), "records tagged on {path:?}");
        for (bytes, value) in stored.iter().zip(values) {
            let tag = tag_of(bytes).unwrap_or_else(|| panic!("{value:?} was not tagged"));
            assert_eq!(tag.path, path, "the path of {value:?}");
            assert_eq!(tag.payload, value.as_bytes());
        }
        stored
    }
}

/// Starts a cluster, registers the policy modules on it, and says how long it took.
pub fn start_cluster(bins: &FluvioBins, label: &str) -> Cluster {
    let cluster = Cluster::start(bins, label)
        .unwrap_or_else(|e| panic!("cannot start the Fluvio cluster `{label}`: {e}"));
    let registered = Instant::now();
    // Registered under their crate names, as docs/POLICIES.md registers them.
    for name in integration::POLICY_MODULES {
        cluster
            .register_module(name, &integration::wasm_path(name))
            .unwrap_or_else(|e| panic!("cannot register {name} on {label}: {e}"));
    }
    say!(
        "broker-tests: cluster `{label}` started in {:.1} s (SC + SPU on {}, pids {:?}); \
         {} modules registered in {:.1} s",
        cluster.started_in().as_secs_f64(),
        cluster.sc_public(),
        cluster.pids(),
        integration::POLICY_MODULES.len(),
        registered.elapsed().as_secs_f64()
    );
    cluster
}

/// Every record of `topic` on `cluster`, through `fluvio consume` with `extra` arguments.
pub fn records(cluster: &Cluster, topic: &str, extra: &[&str]) -> Vec<ConsumedRecord> {
    cluster
        .consume_all(topic, true, extra)
        .unwrap_or_else(|e| panic!("cannot consume {topic} on {}: {e}", cluster.label()))
}

/// What a `fluvio produce` reads.
#[derive(Clone)]
enum Input {
    /// Text lines on stdin, one record each.
    Lines(Vec<String>),
    /// One record with exactly these bytes, from a file (`--raw -f`), as `shown` in the docs.
    Raw { bytes: Vec<u8>, shown: String },
    /// Text lines from a file (`-f`): sent together, acknowledged at the end.
    File { lines: Vec<String>, shown: String },
}

/// A `fluvio produce` call, built up like the command line it runs.
#[derive(Clone)]
pub struct Produce<'a> {
    cluster: &'a Cluster,
    topic: &'a str,
    shown_topic: &'a str,
    args: Vec<String>,
    input: Input,
}

impl<'a> Produce<'a> {
    pub fn on(cluster: &'a Cluster, topic: &'a str) -> Produce<'a> {
        Produce {
            cluster,
            topic,
            shown_topic: topic,
            args: Vec::new(),
            input: Input::Lines(Vec::new()),
        }
    }

    /// Names the topic as the docs do (the run's topic names are unique, the docs' are not).
    pub fn shown_as(mut self, topic: &'a str) -> Self {
        self.shown_topic = topic;
        self
    }

    pub fn lines(mut self, lines: &[&str]) -> Self {
        self.input = Input::Lines(lines.iter().map(|l| l.to_string()).collect());
        self
    }

    /// One record holding exactly `bytes`, read from a file named `shown` in the docs.
    pub fn raw(mut self, bytes: &[u8], shown: &str) -> Self {
        self.input = Input::Raw {
            bytes: bytes.to_vec(),
            shown: shown.to_string(),
        };
        self
    }

    /// Text lines from a file named `shown` in the docs (`-f`): unlike stdin, where the CLI
    /// waits for each line's acknowledgement, the lines can share a produce request.
    pub fn file_lines(mut self, lines: &[&str], shown: &str) -> Self {
        self.input = Input::File {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            shown: shown.to_string(),
        };
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// `--smartmodule-path FILE -e k=v...` with the built module `name`.
    pub fn module_path(mut self, name: &str, params: &[(&str, &str)]) -> Self {
        let path = integration::wasm_path(name);
        self.args.push("--smartmodule-path".into());
        self.args.push(path.to_string_lossy().into_owned());
        self.params(params)
    }

    /// `--smartmodule NAME -e k=v...` with a registered module.
    pub fn module(mut self, name: &str, params: &[(&str, &str)]) -> Self {
        self.args.push("--smartmodule".into());
        self.args.push(name.into());
        self.params(params)
    }

    fn params(mut self, params: &[(&str, &str)]) -> Self {
        for (k, v) in params {
            self.args.push("-e".into());
            self.args.push(format!("{k}={v}"));
        }
        self
    }

    /// One more `--transform '{"uses":NAME,"with":{...}}'` in the chain.
    pub fn transform(mut self, uses: &str, with: &[(&str, &str)]) -> Self {
        self.args.push("--transform".into());
        self.args.push(transform_spec(uses, with));
        self
    }

    /// The command as a reader would type it, with the docs' topic name and file names.
    pub fn shell(&self) -> String {
        let mut line = String::new();
        match &self.input {
            Input::Lines(lines) if lines.len() == 1 => {
                line.push_str(&format!("echo {} | ", shell_quote(&lines[0])))
            }
            Input::Lines(lines) => line.push_str(&format!(
                "printf {} | ",
                shell_quote(&lines.iter().map(|l| format!("{l}\\n")).collect::<String>())
            )),
            Input::Raw { .. } | Input::File { .. } => {}
        }
        line.push_str("fluvio produce ");
        line.push_str(self.shown_topic);
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(&shown_arg(arg)));
        }
        match &self.input {
            Input::Raw { shown, .. } => line.push_str(&format!(" --raw -f {shown}")),
            Input::File { shown, .. } => line.push_str(&format!(" -f {shown}")),
            Input::Lines(_) => {}
        }
        line
    }

    /// Runs it; the outcome is checked by the caller.
    pub fn run(&self) -> Produced {
        let mut args = vec!["produce".to_string(), self.topic.to_string()];
        args.extend(self.args.iter().cloned());
        let stdin = match &self.input {
            Input::Lines(lines) => Some(lines.iter().map(|l| format!("{l}\n")).collect::<String>()),
            Input::Raw { bytes, shown } => {
                let file = self
                    .cluster
                    .write_file(&format!("{}-{shown}", self.topic), bytes)
                    .unwrap_or_else(|e| panic!("{e}"));
                args.extend([
                    "--raw".into(),
                    "-f".into(),
                    file.to_string_lossy().into_owned(),
                ]);
                None
            }
            Input::File { lines, shown } => {
                let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                let file = self
                    .cluster
                    .write_file(&format!("{}-{shown}", self.topic), text.as_bytes())
                    .unwrap_or_else(|e| panic!("{e}"));
                args.extend(["-f".into(), file.to_string_lossy().into_owned()]);
                None
            }
        };
        let out = self
            .cluster
            .fluvio(&args, stdin.as_ref().map(|s| s.as_bytes()))
            .unwrap_or_else(|e| panic!("`{}` did not complete: {e}", self.shell()));
        Produced {
            shell: self.shell(),
            out,
        }
    }

    /// Runs it until it is accepted, retrying while the partition has no leader yet (right
    /// after an SPU restart); fails after `deadline`.
    pub fn run_until_accepted(&self, deadline: Duration) -> Produced {
        let started = Instant::now();
        loop {
            let produced = self.run();
            let text = produced.out.text();
            let transient = text.contains("not the leader")
                || text.contains("Connection refused")
                || text.contains("connection closed");
            if produced.out.success() || !transient || started.elapsed() > deadline {
                return produced.expect_ok();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// What a `fluvio produce` did.
pub struct Produced {
    pub shell: String,
    pub out: CmdOutput,
}

impl Produced {
    pub fn expect_ok(self) -> Produced {
        assert!(
            self.out.success(),
            "`{}` was refused: {}",
            self.shell,
            self.out.describe()
        );
        self
    }

    /// Requires a refusal with exit code 1 and returns what the producer printed.
    pub fn expect_refused(self) -> String {
        assert_eq!(
            self.out.code,
            Some(1),
            "`{}` should be refused with exit code 1: {}",
            self.shell,
            self.out.describe()
        );
        self.out.text()
    }

    /// `$ command`, then what it printed, as a doc block shows a run.
    pub fn transcript(&self) -> String {
        let text = self.out.text();
        let mut t = format!("$ {}\n", self.shell);
        if !text.trim().is_empty() {
            t.push_str(&normalise_block(&text));
        }
        t
    }
}

/// Appends one case to a doc block of outcomes: `# title`, the command and what it printed,
/// then `-> exit code N; result`.
pub fn case(block: &mut String, title: &str, produced: &Produced, result: &str) {
    if !block.is_empty() {
        block.push('\n');
    }
    block.push_str(&format!("# {title}\n{}", produced.transcript()));
    block.push_str(&format!(
        "-> exit code {}; {result}\n",
        produced.out.code.map_or("none".into(), |c| c.to_string())
    ));
}

/// `{"uses":NAME,"with":{...}}`, as `--transform` takes it.
pub fn transform_spec(uses: &str, with: &[(&str, &str)]) -> String {
    let with: serde_json::Map<String, serde_json::Value> = with
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    serde_json::json!({ "uses": uses, "with": with }).to_string()
}

/// A module path is shown as the docs give it, relative to the workspace.
fn shown_arg(arg: &str) -> String {
    let root = integration::workspace_root();
    let root = root.to_string_lossy();
    arg.strip_prefix(&*root)
        .map(|rest| rest.trim_start_matches('/').to_string())
        .unwrap_or_else(|| arg.to_string())
}

/// Quotes an argument for a POSIX shell when it needs it (no argument here holds `'`).
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,".contains(c));
    if plain {
        arg.to_string()
    } else if arg.contains(' ') && !arg.contains(['"', '\\', '$', '`', '\'']) {
        format!("\"{arg}\"")
    } else {
        format!("'{arg}'")
    }
}

/// A tag's observable fields, read with `origin::decode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFacts {
    pub origin: String,
    pub path: Vec<String>,
    pub hops: u8,
    pub violation: bool,
    pub id: [u8; 8],
    pub payload: Vec<u8>,
}

impl TagFacts {
    /// `origin edge-1, path edge-1 > home, hops 1`, plus the VIOLATION flag when set.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "origin {}, path {}, hops {}",
            self.origin,
            self.path.join(" > "),
            self.hops
        );
        if self.violation {
            s.push_str(", VIOLATION flag");
        }
        s
    }
}

/// The tag at the start of `carrier`, or `None` when it is untagged. A malformed tag fails
/// the test: nothing the modules store may be malformed.
pub fn tag_of(carrier: &[u8]) -> Option<TagFacts> {
    match origin::decode(carrier) {
        Ok(origin::Decoded::Untagged) => None,
        Ok(origin::Decoded::Tagged { envelope, payload }) => Some(TagFacts {
            origin: envelope.origin().to_string(),
            path: envelope.path().iter().map(|s| s.to_string()).collect(),
            hops: envelope.hops(),
            violation: envelope.is_violation(),
            id: envelope.id(),
            payload: payload.to_vec(),
        }),
        Err(e) => panic!("a stored record holds a malformed tag ({e:?}): {carrier:02x?}"),
    }
}

/// `docs/POLICIES.md`.
pub fn policies_md() -> PathBuf {
    integration::workspace_root()
        .join("docs")
        .join("POLICIES.md")
}

/// Checks that the fenced block after `marker` in POLICIES.md reads `actual` (trailing spaces
/// aside); with `BROKER_BLESS=1`, rewrites the block with `actual` instead.
pub fn check_doc_block(marker: &str, actual: &str) {
    check_doc_block_with(marker, actual, |t| t.to_string());
}

/// [`check_doc_block`], comparing the block and `actual` as `normalise` gives them (to leave
/// out what moves from run to run); `BROKER_BLESS=1` writes `actual` itself.
pub fn check_doc_block_with(marker: &str, actual: &str, normalise: fn(&str) -> String) {
    let path = policies_md();
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let block =
        fenced_block_after(&doc, marker).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let actual = normalise_block(actual);
    if std::env::var_os(BLESS).is_some_and(|v| v == "1") {
        if normalise_block(&block.text) != actual {
            let updated = replace_block(&doc, &block, &actual);
            let mut f = std::fs::File::create(&path)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            f.write_all(updated.as_bytes())
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            say!("broker-tests: rewrote the block after {marker:?} in docs/POLICIES.md");
        }
        return;
    }
    assert_eq!(
        normalise(&normalise_block(&block.text)),
        normalise(&actual),
        "docs/POLICIES.md, the block after {marker:?}, differs from the real run (left: the \
         doc, right: the run); if the run is right, rerun with {BLESS}=1 to rewrite the block"
    );
}

/// The hint of the first SmartModule error the SPU logged after `since` (a length of its log):
/// the text between `hint: "` and the closing quote.
pub fn spu_hint_since(cluster: &Cluster, since: usize) -> Option<String> {
    let log = cluster.spu_log();
    let new = log.get(since..)?;
    let start = new.find("hint: \"")? + "hint: \"".len();
    let len = new[start..].find('"')?;
    Some(new[start..start + len].to_string())
}

/// Waits until the SPU has logged a hint after `since`; the log is written a moment after the
/// producer reads its error.
pub fn wait_spu_hint(cluster: &Cluster, since: usize) -> String {
    let started = Instant::now();
    loop {
        if let Some(hint) = spu_hint_since(cluster, since) {
            return hint;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the SPU of {} logged no SmartModule hint; its log ends:\n{}",
            cluster.label(),
            tail(&cluster.spu_log(), 30)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `"text"` for printable text, else the bytes in hex.
pub fn show(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(char::is_control) => format!("{s:?}"),
        _ => format!("{} bytes", bytes.len()),
    }
}
