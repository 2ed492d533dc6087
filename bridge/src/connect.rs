//! Connecting to a cluster by endpoint or by profile, and what the bridge checks about its
//! topics before it copies anything.

use std::time::{Duration, Instant};

use fluvio::config::ConfigFile as FluvioConfigFile;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig};

use crate::config::{ClusterAddress, ClusterPlan};
use crate::error::{BridgeError, ConfigError};
use crate::retry::Backoff;

/// The client config for a cluster: its endpoint, or its profile's cluster (with TLS if the
/// profile has it). A profile that is missing, or that needs TLS this build lacks, is a
/// config error.
pub fn client_config(cluster: &ClusterPlan) -> Result<FluvioClusterConfig, ConfigError> {
    let bad = |problem: String| ConfigError::BadCluster {
        cluster: cluster.id.clone(),
        problem,
    };
    match &cluster.address {
        ClusterAddress::Endpoint(endpoint) => Ok(FluvioClusterConfig::new(endpoint.clone())),
        ClusterAddress::Profile { name, file } => {
            let path = file.as_ref().map(|p| p.to_string_lossy().into_owned());
            let where_ = path
                .clone()
                .unwrap_or_else(|| "the Fluvio config (~/.fluvio/config)".into());
            let config = FluvioConfigFile::load(path)
                .map_err(|e| bad(format!("cannot read {where_}: {e}")))?;
            let cluster_config = config
                .config()
                .cluster_with_profile(name)
                .cloned()
                .ok_or_else(|| {
                    bad(format!(
                        "profile '{name}' is not in {where_} (fluvio profile list shows them)"
                    ))
                })?;
            if !cfg!(feature = "tls") && cluster_config.tls != fluvio::config::TlsPolicy::Disabled {
                return Err(bad(format!(
                    "profile '{name}' uses TLS, which this build leaves out; build it with \
                     `cargo build -p origin-bridge --features tls`"
                )));
            }
            Ok(cluster_config)
        }
    }
}

/// One connection attempt.
pub async fn connect_once(
    config: &FluvioClusterConfig,
) -> Result<Fluvio, Box<dyn std::error::Error + Send + Sync>> {
    Fluvio::connect_with_config(config)
        .await
        .map_err(|e| format!("{e:#}").into())
}

/// Connects, retrying with backoff for up to `within`: clusters started together with the
/// bridge may take a moment to answer.
pub async fn connect_within(
    cluster: &ClusterPlan,
    config: &FluvioClusterConfig,
    within: Duration,
) -> Result<Fluvio, BridgeError> {
    let started = Instant::now();
    let mut backoff = Backoff::new();
    loop {
        match connect_once(config).await {
            Ok(fluvio) => return Ok(fluvio),
            Err(e) => {
                if started.elapsed() >= within {
                    return Err(BridgeError::Unreachable {
                        cluster: cluster.id.clone(),
                        address: cluster.address.to_string(),
                        waited_secs: within.as_secs(),
                        detail: e.to_string(),
                    });
                }
                fluvio_future::timer::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// How many partitions `topic` has on the cluster, `None` if it does not exist.
pub async fn partition_count(
    fluvio: &Fluvio,
    cluster: &str,
    topic: &str,
) -> Result<Option<u32>, BridgeError> {
    let admin = fluvio.admin().await;
    let topics = admin
        .list::<TopicSpec, String>(vec![topic.to_string()])
        .await
        .map_err(|e| BridgeError::Connect {
            cluster: cluster.to_string(),
            detail: format!("cannot list topic '{topic}': {e:#}"),
        })?;
    Ok(topics
        .iter()
        .find(|t| t.name == topic)
        .map(|t| t.spec.partitions()))
}
