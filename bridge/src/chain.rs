//! The link's chain as Fluvio sends it with every produce request: registered modules by name,
//! module files inline (gzipped, as `fluvio produce --smartmodule-path` sends them), params
//! and look-back as in a transforms file.

use fluvio::{
    SmartModuleContextData, SmartModuleExtraParams, SmartModuleInvocation,
    SmartModuleInvocationWasm, SmartModuleKind,
};
use fluvio_smartmodule::dataplane::smartmodule::Lookback;

use crate::config::{ChainStep, ModuleRef};
use crate::error::ConfigError;

/// The invocations for `chain`, in order. The kind is left to the broker, which probes each
/// module's exports (filter, map, filter_map...), as the Fluvio CLI does.
pub fn invocations(chain: &[ChainStep]) -> Result<Vec<SmartModuleInvocation>, ConfigError> {
    chain
        .iter()
        .map(|step| {
            let (wasm, name) = match &step.module {
                ModuleRef::Registered(name) => (
                    SmartModuleInvocationWasm::Predefined(name.clone()),
                    name.clone(),
                ),
                ModuleRef::File { path, wasm } => (
                    SmartModuleInvocationWasm::adhoc_from_bytes(wasm).map_err(|source| {
                        ConfigError::ModuleFile {
                            link: String::new(),
                            path: path.clone(),
                            source,
                        }
                    })?,
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.display().to_string()),
                ),
            };
            let lookback = step.lookback.map(|(last, age)| Lookback { last, age });
            Ok(SmartModuleInvocation {
                wasm,
                kind: SmartModuleKind::Generic(SmartModuleContextData::None),
                params: SmartModuleExtraParams::new(step.params.clone(), lookback),
                name: Some(name),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn registered_and_file_modules_with_params_and_look_back() {
        let chain = [
            ChainStep {
                module: ModuleRef::Registered("mirror-policy".into()),
                params: BTreeMap::from([("cluster".into(), "west".into())]),
                lookback: Some((100, None)),
            },
            ChainStep {
                module: ModuleRef::File {
                    path: PathBuf::from("/m/origin_tag.wasm"),
                    wasm: b"\0asm\x01\0\0\0".to_vec(),
                },
                params: BTreeMap::new(),
                lookback: None,
            },
        ];
        let inv = invocations(&chain).unwrap();
        assert!(
            matches!(&inv[0].wasm, SmartModuleInvocationWasm::Predefined(n) if n == "mirror-policy")
        );
        assert_eq!(
            inv[0].params.get("cluster").map(String::as_str),
            Some("west")
        );
        assert_eq!(inv[0].params.lookback().map(|l| l.last), Some(100));
        assert_eq!(inv[1].name.as_deref(), Some("origin_tag.wasm"));
        let raw = inv[1].wasm.clone().into_raw().unwrap();
        assert_eq!(raw, b"\0asm\x01\0\0\0");
    }
}
