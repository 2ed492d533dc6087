//! The policy modules of this workspace, natively: the same `Policy` types their .wasm builds
//! run, so that a host reads a step's typed config and asks the very stage that dropped a
//! record why, instead of parsing params or guessing.

use std::collections::BTreeMap;
use std::path::Path;

use policy::{AnyPolicy, Kind, Known, ParamError, Params, Policy};

use crate::chain_file::module_name;

/// One of the policy modules.
#[derive(Clone, Copy)]
pub struct PolicyModule {
    /// The module's name, as its crate and `.wasm` are named (dashes).
    pub name: &'static str,
    /// The transform it exports.
    pub kind: Kind,
    /// The params it takes.
    pub params: Known,
    build: Build,
}

/// Builds a module's policy from its params.
type Build = fn(&BTreeMap<String, String>) -> Result<Box<dyn AnyPolicy>, ParamError>;

impl std::fmt::Debug for PolicyModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyModule")
            .field("name", &self.name)
            .finish()
    }
}

fn entry<P: Policy + 'static>() -> PolicyModule {
    PolicyModule {
        name: P::NAME,
        kind: P::KIND,
        params: P::PARAMS,
        build: |params| {
            let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            Ok(Box::new(P::build(pairs)?) as Box<dyn AnyPolicy>)
        },
    }
}

/// Every policy module, in the order the docs list them.
pub fn all() -> [PolicyModule; 5] {
    [
        entry::<origin_tag::OriginTag>(),
        entry::<loop_guard::LoopGuard>(),
        entry::<mirror_guard::MirrorGuard>(),
        entry::<origin_strip::OriginStrip>(),
        entry::<mirror_policy::MirrorPolicy>(),
    ]
}

/// A module that reads provenance and decides nothing (origin-stats, origin-inspect): not a
/// `Policy`, so the simulator has nothing to ask it; listed for what ships with it.
#[derive(Debug, Clone, Copy)]
pub struct ObserverModule {
    /// The module's name, as its crate and `.wasm` are named (dashes).
    pub name: &'static str,
    /// The transform it exports.
    pub kind: Kind,
    /// The params it takes.
    pub params: Known,
}

/// The observing modules, in the order the docs list them.
pub fn observers() -> [ObserverModule; 2] {
    [
        ObserverModule {
            name: origin_stats::NAME,
            kind: Kind::Aggregate,
            params: origin_stats::PARAMS,
        },
        ObserverModule {
            name: origin_inspect::NAME,
            kind: Kind::Map,
            params: origin_inspect::PARAMS,
        },
    ]
}

/// The policy module a chain step's `uses` names (a name, `group/name@version`, or a path to
/// its .wasm; dashes or underscores), if it is one of this workspace's.
pub fn find(uses: &str) -> Option<PolicyModule> {
    let name = module_name(uses).trim_end_matches(".wasm");
    let name = Path::new(name)
        .file_name()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_default();
    all().into_iter().find(|m| m.name == name)
}

impl PolicyModule {
    /// Checks `params` as the module's `init` does and builds its stages.
    pub fn build(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<Box<dyn AnyPolicy>, ParamError> {
        (self.build)(params)
    }

    /// The params as the module reads them: checked against those it takes, so a host asks
    /// for one by its [`policy::params`] name instead of looking a string up.
    pub fn given<'p>(
        &self,
        params: &'p BTreeMap<String, String>,
    ) -> Result<Params<'p>, ParamError> {
        let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        Params::new(self.name, &self.params, pairs)
    }

    /// Whether the module takes the param called `name`.
    pub fn takes(&self, name: &str) -> bool {
        self.params.get(name).is_some()
    }
}
