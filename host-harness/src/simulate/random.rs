//! A seeded random number generator (SplitMix64: same seed, same numbers, on every platform)
//! and random topologies for property tests and long runs.

use crate::chain_file::{StepDoc, StepsDoc};

use super::topology::{
    ClusterDef, FaultDef, LinkDef, LinkKind, ProducerDef, SizeDef, TopicDef, TopologyFile,
};

/// SplitMix64: the one seeded generator of the host code and its tests.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose numbers depend on `seed` alone.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x005E_ED0F_70B0_1061)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Shuffles in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The topic every random cluster has, bridged in a random graph.
pub const TOPIC: &str = "orders";
/// The topic of the optional native-mirror star.
pub const MIRROR_TOPIC: &str = "metrics";

fn step(uses: &str, with: &[(&str, String)], lookback: Option<u64>) -> StepDoc {
    let step = StepDoc::new(uses, with.iter().cloned());
    match lookback {
        Some(last) => step.lookback_last(last),
        None => step,
    }
}

/// A random topology: 2 to 8 clusters, bridges in a random graph with a cycle and random
/// extra links (so cycles and diamonds), sometimes mirror-guarded clusters fed by bridges
/// and written to locally, sometimes a native-mirror star, sometimes secrets and a forger,
/// and up to four faults. Every write path is mirror-policy with a `dedup` window and the
/// lookback that rebuilds it, so every invariant must hold.
pub fn topology(seed: u64) -> TopologyFile {
    let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xA11CE);
    let n = rng.range(2, 8) as usize;
    let ids: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let secret = rng
        .chance(40)
        .then(|| format!("random-topology-secret-{seed}"));
    let carrier_key = rng.chance(20);
    let window: u64 = 10_000;

    // Bridges: a cycle over a random subset of at least two clusters, then random extra links.
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let cycle = rng.range(2, n as u64) as usize;
    for i in 0..cycle {
        edges.push((order[i], order[(i + 1) % cycle]));
    }
    let extra = 15 + rng.below(25);
    for a in 0..n {
        for b in 0..n {
            if a != b && !edges.contains(&(a, b)) && rng.chance(extra) {
                edges.push((a, b));
            }
        }
    }
    // Clusters off the cycle with no link at all get one in and one out.
    for c in 0..n {
        if !edges.iter().any(|&(a, b)| a == c || b == c) {
            let other = order[rng.below(cycle as u64) as usize];
            edges.push((other, c));
            if rng.chance(50) {
                edges.push((c, other));
            }
        }
    }
    edges.sort_unstable();

    // Mirror-guarded clusters: every link into them is from an upstream in `mirror_of`.
    let mut guarded: Vec<Option<(Vec<usize>, &str)>> = vec![None; n];
    for (c, g) in guarded.iter_mut().enumerate() {
        let ups: Vec<usize> = edges.iter().filter(|e| e.1 == c).map(|e| e.0).collect();
        if !ups.is_empty() && rng.chance(20) {
            let mode = match rng.below(6) {
                0 => "drop",
                1 => "audit",
                _ => "reject",
            };
            *g = Some((ups, mode));
        }
    }

    // A native-mirror star: edges produce `metrics`, tagged, mirrored to a hub.
    let star = (n >= 3 && rng.chance(40)).then(|| {
        let hub = rng.below(n as u64) as usize;
        let mut others: Vec<usize> = (0..n).filter(|&c| c != hub).collect();
        rng.shuffle(&mut others);
        others.truncate(rng.range(1, 3) as usize);
        others.sort_unstable();
        (hub, others)
    });

    let mut clusters = Vec::new();
    for (c, id) in ids.iter().enumerate() {
        let mut with = vec![
            ("cluster", id.clone()),
            ("dedup", window.to_string()),
            ("max_hops", "8".to_string()),
        ];
        if carrier_key {
            with.push(("carrier", "key".into()));
        }
        if let Some((ups, mode)) = &guarded[c] {
            let of: Vec<&str> = ups.iter().map(|&u| ids[u].as_str()).collect();
            with.push(("mirror_of", of.join(",")));
            with.push(("mode", mode.to_string()));
            with.push(("topic", TOPIC.into()));
        }
        let mut chain = Vec::new();
        if rng.chance(25) {
            let mut lg = vec![("cluster", id.clone())];
            if carrier_key {
                lg.push(("carrier", "key".into()));
            }
            chain.push(step("loop-guard", &lg, None));
        }
        chain.push(step("mirror-policy", &with, Some(window)));
        let mut topics = vec![TopicDef {
            name: TOPIC.into(),
            transforms: Some(StepsDoc::List(chain)),
        }];
        if let Some((hub, edges_of_star)) = &star {
            let mut cw = vec![("cluster", id.clone())];
            if carrier_key {
                cw.push(("carrier", "key".into()));
            }
            if *hub == c {
                let of: Vec<&str> = edges_of_star.iter().map(|&e| ids[e].as_str()).collect();
                cw.push(("mirror_of", of.join(",")));
                topics.push(TopicDef {
                    name: MIRROR_TOPIC.into(),
                    transforms: Some(StepsDoc::List(vec![step("mirror-policy", &cw, None)])),
                });
            } else if edges_of_star.contains(&c) {
                topics.push(TopicDef {
                    name: MIRROR_TOPIC.into(),
                    transforms: Some(StepsDoc::List(vec![step("origin-tag", &cw, None)])),
                });
            }
        }
        clusters.push(ClusterDef {
            id: id.clone(),
            secret: secret.clone(),
            topics,
        });
    }

    let mut links = Vec::new();
    for &(a, b) in &edges {
        links.push(LinkDef {
            from: ids[a].clone(),
            to: ids[b].clone(),
            topic: TOPIC.into(),
            kind: LinkKind::Bridge,
            latency_ms: Some(rng.range(1, 20)),
            jitter_ms: rng.chance(30).then(|| rng.range(1, 5)),
            batch: Some(rng.range(1, 5) as usize),
            commit_ms: Some(rng.range(10, 60)),
            ..Default::default()
        });
    }
    if let Some((hub, edges_of_star)) = &star {
        for &e in edges_of_star {
            links.push(LinkDef {
                from: ids[e].clone(),
                to: ids[*hub].clone(),
                topic: MIRROR_TOPIC.into(),
                kind: LinkKind::NativeMirror,
                latency_ms: Some(rng.range(1, 10)),
                batch: Some(rng.range(1, 3) as usize),
                ..Default::default()
            });
        }
    }
    // Names are needed when two links join the same two clusters.
    let names: Vec<String> = links
        .iter()
        .map(|l| {
            let shared = links
                .iter()
                .filter(|o| o.from == l.from && o.to == l.to)
                .count()
                > 1;
            if shared {
                format!("{}->{}:{}", l.from, l.to, l.topic)
            } else {
                format!("{}->{}", l.from, l.to)
            }
        })
        .collect();

    let mut producers = Vec::new();
    for (c, id) in ids.iter().enumerate() {
        let local = guarded[c].is_some();
        producers.push(ProducerDef {
            cluster: id.clone(),
            topic: TOPIC.into(),
            records: if local {
                rng.range(1, 3)
            } else {
                rng.range(2, 6)
            },
            size: Some(SizeDef::Range([8, rng.range(8, 64) as usize])),
            rate: Some(rng.range(50, 500) as f64),
            start_ms: Some(rng.below(50)),
            batch: Some(rng.range(1, 3) as usize),
            keys: rng.chance(30),
            local_writes_to_mirror: local,
            ..Default::default()
        });
    }
    if let Some((hub, edges_of_star)) = &star {
        for &e in edges_of_star {
            producers.push(ProducerDef {
                cluster: ids[e].clone(),
                topic: MIRROR_TOPIC.into(),
                records: rng.range(2, 8),
                size: Some(SizeDef::Fixed(16)),
                rate: Some(rng.range(200, 1000) as f64),
                batch: Some(rng.range(1, 2) as usize),
                ..Default::default()
            });
        }
        if rng.chance(50) {
            producers.push(ProducerDef {
                cluster: ids[*hub].clone(),
                topic: MIRROR_TOPIC.into(),
                records: 2,
                local_writes_to_mirror: true,
                ..Default::default()
            });
        }
    }
    if secret.is_some() && rng.chance(40) {
        let at = rng.below(n as u64) as usize;
        let claim = (at + 1 + rng.below(n as u64 - 1) as usize) % n;
        producers.push(ProducerDef {
            name: Some("forger".into()),
            cluster: ids[at].clone(),
            topic: TOPIC.into(),
            records: 2,
            forge: true,
            claim: Some(ids[claim].clone()),
            forge_secret: rng.chance(50).then(|| "a-guess".to_string()),
            local_writes_to_mirror: guarded[at].is_some(),
            ..Default::default()
        });
    }

    let mut faults = Vec::new();
    for _ in 0..rng.below(5) {
        match rng.below(3) {
            0 => faults.push(FaultDef::LinkDown {
                link: names[rng.below(names.len() as u64) as usize].clone(),
                at_ms: rng.below(150),
                for_ms: rng.range(10, 120),
            }),
            1 => faults.push(FaultDef::Restart {
                cluster: ids[rng.below(n as u64) as usize].clone(),
                at_ms: rng.below(150),
                for_ms: rng.below(40),
            }),
            _ => {
                let from_ms = rng.below(50);
                faults.push(FaultDef::Reorder {
                    link: names[rng.below(names.len() as u64) as usize].clone(),
                    from_ms,
                    until_ms: from_ms + rng.range(50, 300),
                    jitter_ms: rng.range(5, 40),
                });
            }
        }
    }

    // Native mirrors resynchronise when their batches overtake each other.
    if let Some((hub, edges_of_star)) = &star {
        if rng.chance(75) {
            let e = edges_of_star[rng.below(edges_of_star.len() as u64) as usize];
            let from_ms = rng.below(30);
            faults.push(FaultDef::Reorder {
                link: names[edges.len() + edges_of_star.iter().position(|&x| x == e).unwrap_or(0)]
                    .clone(),
                from_ms,
                until_ms: from_ms + rng.range(40, 200),
                jitter_ms: rng.range(10, 40),
            });
            debug_assert!(names[edges.len()].contains(&ids[*hub]));
        }
    }

    TopologyFile {
        name: Some(format!("random-{seed}")),
        description: Some(format!(
            "random topology of seed {seed}: {n} clusters, {} links",
            links.len()
        )),
        seed: Some(seed),
        max_time_ms: None,
        clusters,
        links,
        producers,
        faults,
    }
}
