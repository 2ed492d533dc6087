//! What ships with each module: its `SmartModule.toml` (the package metadata Fluvio's tooling
//! reads) agrees with the params the module really accepts, and its size stays small: under
//! an absolute ceiling, and within 1% of the sizes in `tests/golden/module-sizes.txt`, so a
//! regression fails here instead of hiding under the ceiling (`BLESS=1` rewrites the file, as
//! wasmtime's `tests/disas` blesses its expectations).

use host_harness::policies;

#[derive(serde::Deserialize)]
struct Manifest {
    package: Package,
    #[serde(default)]
    params: Vec<ManifestParam>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    group: String,
    version: String,
    api_version: String,
    description: String,
}

#[derive(serde::Deserialize)]
struct ManifestParam {
    name: String,
    description: String,
    #[serde(default)]
    optional: bool,
}

#[test]
fn smartmodule_toml_lists_exactly_the_params_the_module_accepts() {
    let modules = policies::all()
        .map(|m| (m.name, m.params))
        .into_iter()
        .chain(policies::observers().map(|m| (m.name, m.params)));
    let mut checked = Vec::new();
    for (name, params) in modules {
        let path = integration::workspace_root()
            .join("smartmodules")
            .join(name)
            .join("SmartModule.toml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let manifest: Manifest =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(manifest.package.name, name);
        assert_eq!(manifest.package.group, "mirror-safety");
        assert!(!manifest.package.version.is_empty() && !manifest.package.api_version.is_empty());
        assert!(!manifest.package.description.is_empty());
        let expected: Vec<(&str, &str, bool)> = params
            .required
            .iter()
            .map(|p| (p.name, p.what, false))
            .chain(params.optional.iter().map(|p| (p.name, p.what, true)))
            .collect();
        let listed: Vec<(&str, &str, bool)> = manifest
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.description.as_str(), p.optional))
            .collect();
        assert_eq!(listed, expected, "{name}");
        checked.push(name);
    }
    assert_eq!(
        checked,
        integration::POLICY_MODULES,
        "every module that ships"
    );
}

/// The broker compiles producer-side modules on every produce request: size is start-up time.
const MAX_MODULE_BYTES: u64 = 60 * 1024;

#[test]
fn built_modules_are_small() {
    println!("{:<16} {:>10}", "module", "bytes");
    for name in integration::POLICY_MODULES {
        let size = std::fs::metadata(integration::wasm_path(name))
            .unwrap()
            .len();
        println!("{name:<16} {size:>10}");
        assert!(
            size <= MAX_MODULE_BYTES,
            "{name} is {size} bytes, over {MAX_MODULE_BYTES}"
        );
    }
}

/// The sizes every build is held to: `tests/golden/module-sizes.txt`.
fn golden_path() -> std::path::PathBuf {
    integration::workspace_root().join("tests/golden/module-sizes.txt")
}

const GOLDEN_HEADER: &str = "\
# Sizes in bytes of the policy modules: `full` as `cargo build-modules` builds them, `lean` as
# `cargo build-modules-lean` does. tests/all/packaging.rs fails when a size moves more than 1%
# from this file; `BLESS=1 cargo test -p integration --test all packaging` rewrites it.
# module        build      bytes
";

/// A module, its build (`full` or `lean`) and its size in bytes.
type Size = (String, String, u64);

fn render_sizes(sizes: &[Size]) -> String {
    let mut text = GOLDEN_HEADER.to_string();
    for (module, build, bytes) in sizes {
        text.push_str(&format!("{module:<15} {build:<5} {bytes:>10}\n"));
    }
    text
}

fn parse_sizes(text: &str) -> Result<Vec<Size>, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            [module, build, bytes] => bytes
                .parse()
                .map(|b| (module.to_string(), build.to_string(), b))
                .map_err(|e| format!("{l:?}: {e}")),
            _ => Err(format!("{l:?}: expected `module build bytes`")),
        })
        .collect()
}

/// Whether `actual` is within 1% of `golden`.
fn within_one_percent(actual: u64, golden: u64) -> bool {
    actual.abs_diff(golden) * 100 <= golden
}

#[test]
fn module_sizes_match_the_golden_file() {
    let mut sizes: Vec<Size> = Vec::new();
    for name in integration::POLICY_MODULES {
        for (build, bytes) in [
            ("full", integration::wasm(name).len()),
            ("lean", integration::lean_wasm(name).len()),
        ] {
            sizes.push((name.to_string(), build.to_string(), bytes as u64));
        }
    }
    let path = golden_path();
    if integration::blessing() {
        std::fs::write(&path, render_sizes(&sizes))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let golden = parse_sizes(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let key = |(m, b, _): &Size| (m.clone(), b.clone());
    assert_eq!(
        golden.iter().map(key).collect::<Vec<_>>(),
        sizes.iter().map(key).collect::<Vec<_>>(),
        "{} lists other modules or builds than are built; rerun with BLESS=1",
        path.display()
    );
    let moved: Vec<String> = sizes
        .iter()
        .zip(&golden)
        .filter(|((_, _, now), (_, _, was))| !within_one_percent(*now, *was))
        .map(|((module, build, now), (_, _, was))| {
            format!(
                "{module} ({build}): {now} bytes, golden {was} ({:+.2}%)",
                (*now as f64 - *was as f64) * 100.0 / *was as f64
            )
        })
        .collect();
    assert!(
        moved.is_empty(),
        "module sizes moved more than 1% from {}:\n  {}\nif that is intended, rerun with \
         BLESS=1 to rewrite the file",
        path.display(),
        moved.join("\n  ")
    );
}

#[test]
fn the_golden_sizes_allow_one_percent_either_way() {
    assert!(within_one_percent(1010, 1000) && within_one_percent(990, 1000));
    assert!(!within_one_percent(1011, 1000) && !within_one_percent(989, 1000));
    let sizes = vec![("origin-tag".to_string(), "full".to_string(), 33_736)];
    assert_eq!(parse_sizes(&render_sizes(&sizes)).unwrap(), sizes);
    assert!(parse_sizes("origin-tag full").is_err());
}

/// The produce path's modules are the shipped ones that decide, in the same order.
#[test]
fn the_produce_path_modules_are_the_policy_modules_that_decide() {
    let n = integration::PRODUCE_PATH_MODULES.len();
    assert_eq!(
        &integration::POLICY_MODULES[..n],
        integration::PRODUCE_PATH_MODULES
    );
    assert_eq!(
        &integration::POLICY_MODULES[n..],
        ["origin-stats", "origin-inspect"]
    );
}
