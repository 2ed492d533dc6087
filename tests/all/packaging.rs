//! What ships with each module: its `SmartModule.toml` (the package metadata Fluvio's tooling
//! reads) agrees with the params the module really accepts, and its size stays small.

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
    for module in policies::all() {
        let path = integration::workspace_root()
            .join("smartmodules")
            .join(module.name)
            .join("SmartModule.toml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let manifest: Manifest =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(manifest.package.name, module.name);
        assert_eq!(manifest.package.group, "mirror-safety");
        assert!(!manifest.package.version.is_empty() && !manifest.package.api_version.is_empty());
        assert!(!manifest.package.description.is_empty());
        let expected: Vec<(&str, &str, bool)> = module
            .params
            .required
            .iter()
            .map(|p| (p.name, p.what, false))
            .chain(
                module
                    .params
                    .optional
                    .iter()
                    .map(|p| (p.name, p.what, true)),
            )
            .collect();
        let listed: Vec<(&str, &str, bool)> = manifest
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.description.as_str(), p.optional))
            .collect();
        assert_eq!(listed, expected, "{}", module.name);
    }
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
