//! A picture of the topology with the flow counts on its links: Graphviz DOT text, and an
//! SVG drawn here (clusters on a circle, links as curved arrows), so no Graphviz is needed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::report::Report;
use super::topology::{LinkKind, Topology};

const BRIDGE: &str = "#2f6db5";
const NATIVE: &str = "#2e8b57";
const FAIL: &str = "#c62828";
const PASS: &str = "#2e7d32";

fn verdict(report: &Report) -> String {
    if report.passed {
        "PASS".into()
    } else {
        format!("FAIL: {}", report.failed().join(", "))
    }
}

/// Lines describing a cluster: its id, then one line per topic.
fn cluster_lines(topo: &Topology, report: &Report, cluster: usize) -> Vec<String> {
    let mut lines = vec![topo.clusters[cluster].id.clone()];
    for &n in &topo.clusters[cluster].nodes {
        let r = &report.nodes[n];
        let s = &r.stats;
        let mut line = format!("{}: {} stored", r.topic, s.stored);
        if s.produced > 0 {
            line.push_str(&format!(", {} produced", s.produced));
        }
        let dropped = s.dropped_loop + s.dropped_duplicate + s.dropped_local_write + s.dropped_other;
        if dropped > 0 {
            line.push_str(&format!(", {dropped} dropped"));
        }
        if s.refused + s.failed > 0 {
            line.push_str(&format!(", {} refused", s.refused + s.failed));
        }
        if !r.role.is_empty() {
            line.push_str(&format!(" [{}]", r.role));
        }
        lines.push(line);
    }
    lines
}

/// Lines describing a link's flow.
fn link_lines(report: &Report, link: usize) -> Vec<String> {
    let l = &report.links[link];
    let s = &l.stats;
    let topic = if l.topic == l.to_topic {
        l.topic.clone()
    } else {
        format!("{} -> {}", l.topic, l.to_topic)
    };
    let mut lines = vec![format!("{topic} ({})", l.kind)];
    lines.push(format!("{} stored / {} sent", s.stored, s.delivered));
    let mut extra = Vec::new();
    if s.dropped_loop > 0 {
        extra.push(format!("{} loop", s.dropped_loop));
    }
    if s.dropped_duplicate > 0 {
        extra.push(format!("{} dup", s.dropped_duplicate));
    }
    if s.resent > 0 {
        extra.push(format!("{} re-sent", s.resent));
    }
    if s.refused + s.failed > 0 {
        extra.push(format!("{} refused", s.refused + s.failed));
    }
    if !extra.is_empty() {
        lines.push(extra.join(", "));
    }
    lines
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The topology as Graphviz DOT (`circo` lays clusters on a circle, like the SVG).
pub fn dot(topo: &Topology, report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(&topo.name));
    let _ = writeln!(
        out,
        "  graph [layout=circo, labelloc=t, fontname=\"Helvetica\", label=\"{}, seed {}: {}\", fontcolor=\"{}\"];",
        dot_escape(&topo.name),
        report.seed,
        dot_escape(&verdict(report)),
        if report.passed { PASS } else { FAIL }
    );
    out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f3f6fb\", fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for c in 0..topo.clusters.len() {
        let lines = cluster_lines(topo, report, c);
        let label = lines
            .iter()
            .map(|l| dot_escape(l))
            .collect::<Vec<_>>()
            .join("\\n");
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{label}\"];",
            dot_escape(&topo.clusters[c].id)
        );
    }
    for (i, l) in topo.links.iter().enumerate() {
        let label = link_lines(report, i)
            .iter()
            .map(|l| dot_escape(l))
            .collect::<Vec<_>>()
            .join("\\n");
        let (color, style) = match l.kind {
            LinkKind::Bridge => (BRIDGE, "solid"),
            LinkKind::NativeMirror => (NATIVE, "bold"),
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{label}\", color=\"{color}\", fontcolor=\"{color}\", style={style}];",
            dot_escape(&topo.clusters[l.from].id),
            dot_escape(&topo.clusters[l.to].id)
        );
    }
    out.push_str("}\n");
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Approximate text width in pixels at `size` px (Helvetica averages ~0.56 em).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.56
}

/// The topology as SVG: clusters on a circle, links as curved arrows with their counts.
pub fn svg(topo: &Topology, report: &Report) -> String {
    let n = topo.clusters.len();
    let boxes: Vec<(f64, f64, Vec<String>)> = (0..n)
        .map(|c| {
            let lines = cluster_lines(topo, report, c);
            let w = lines
                .iter()
                .enumerate()
                .map(|(i, l)| text_width(l, if i == 0 { 14.0 } else { 11.0 }))
                .fold(60.0, f64::max)
                + 20.0;
            let h = 22.0 + 15.0 * (lines.len() as f64 - 1.0) + 10.0;
            (w, h, lines)
        })
        .collect();
    let widest = boxes.iter().map(|b| b.0).fold(0.0, f64::max);
    let radius = if n == 1 {
        0.0
    } else {
        (n as f64 * (widest * 0.55 + 60.0) / std::f64::consts::PI).max(widest * 0.8 + 80.0)
    };
    let margin = widest / 2.0 + 90.0;
    let size = 2.0 * (radius + margin);
    let (cx, cy) = (size / 2.0, size / 2.0 + 20.0);
    let pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            (cx + radius * a.cos(), cy + radius * a.sin())
        })
        .collect();

    let mut out = String::new();
    let height = size + 70.0;
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0}" height="{height:.0}" viewBox="0 0 {size:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif">"#
    );
    out.push_str("<defs>\n");
    for (id, color) in [("bridge", BRIDGE), ("native", NATIVE)] {
        let _ = writeln!(
            out,
            r#"<marker id="arrow-{id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker>"#
        );
    }
    out.push_str("</defs>\n");
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{size:.0}" height="{height:.0}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.0}" y="26" text-anchor="middle" font-size="16" font-weight="bold">{}, seed {}: <tspan fill="{}">{}</tspan></text>"#,
        size / 2.0,
        xml(&topo.name),
        report.seed,
        if report.passed { PASS } else { FAIL },
        xml(&verdict(report))
    );

    // Links: a quadratic curve bent to the right of its direction, so that a -> b and
    // b -> a do not overlap; several links between the same clusters bend further.
    let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut labels = String::new();
    for (i, l) in topo.links.iter().enumerate() {
        let k = seen.entry((l.from, l.to)).or_default();
        let bend = 40.0 + 45.0 * *k as f64;
        *k += 1;
        let (x1, y1) = pos[l.from];
        let (x2, y2) = pos[l.to];
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (-dy / len, dx / len);
        let (qx, qy) = ((x1 + x2) / 2.0 + nx * bend, (y1 + y2) / 2.0 + ny * bend);
        let clip = |(px, py): (f64, f64), (w, h): (f64, f64), (tx, ty): (f64, f64)| {
            let (ux, uy) = (tx - px, ty - py);
            let t = [
                if ux.abs() > 1e-9 { (w / 2.0 + 4.0) / ux.abs() } else { f64::MAX },
                if uy.abs() > 1e-9 { (h / 2.0 + 4.0) / uy.abs() } else { f64::MAX },
            ]
            .into_iter()
            .fold(f64::MAX, f64::min)
            .min(1.0);
            (px + ux * t, py + uy * t)
        };
        let (sx, sy) = clip(pos[l.from], (boxes[l.from].0, boxes[l.from].1), (qx, qy));
        let (ex, ey) = clip(pos[l.to], (boxes[l.to].0, boxes[l.to].1), (qx, qy));
        let (color, marker, width, dash) = match l.kind {
            LinkKind::Bridge => (BRIDGE, "bridge", 1.6, ""),
            LinkKind::NativeMirror => (NATIVE, "native", 2.6, ""),
        };
        let _ = writeln!(
            out,
            r#"<path d="M {sx:.1} {sy:.1} Q {qx:.1} {qy:.1} {ex:.1} {ey:.1}" fill="none" stroke="{color}" stroke-width="{width}"{dash} marker-end="url(#arrow-{marker})"><title>{}</title></path>"#,
            xml(&l.name)
        );
        // Label at the curve's midpoint.
        let (mx, my) = (
            0.25 * sx + 0.5 * qx + 0.25 * ex,
            0.25 * sy + 0.5 * qy + 0.25 * ey,
        );
        let lines = link_lines(report, i);
        let w = lines.iter().map(|s| text_width(s, 10.0)).fold(0.0, f64::max) + 8.0;
        let h = 13.0 * lines.len() as f64 + 4.0;
        let _ = writeln!(
            labels,
            r##"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" rx="3" fill="#ffffff" fill-opacity="0.85" stroke="{color}" stroke-width="0.5"/>"##,
            mx - w / 2.0,
            my - h / 2.0
        );
        for (j, line) in lines.iter().enumerate() {
            let _ = writeln!(
                labels,
                r#"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="10" fill="{color}">{}</text>"#,
                my - h / 2.0 + 12.0 + 13.0 * j as f64,
                xml(line)
            );
        }
    }

    for (c, (w, h, lines)) in boxes.iter().enumerate() {
        let (x, y) = pos[c];
        let _ = writeln!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" rx="8" fill="#f3f6fb" stroke="#44546a" stroke-width="1.2"/>"##,
            x - w / 2.0,
            y - h / 2.0
        );
        for (j, line) in lines.iter().enumerate() {
            let (fs, weight, dy) = if j == 0 {
                (14.0, "bold", 0.0)
            } else {
                (11.0, "normal", 4.0 + 15.0 * j as f64)
            };
            let _ = writeln!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="{fs}" font-weight="{weight}">{}</text>"#,
                y - h / 2.0 + 19.0 + dy,
                xml(line)
            );
        }
    }
    out.push_str(&labels);
    let _ = writeln!(
        out,
        r##"<text x="12" y="{:.0}" font-size="11" fill="{BRIDGE}">— bridge</text><text x="80" y="{:.0}" font-size="11" fill="{NATIVE}">— native mirror</text><text x="190" y="{:.0}" font-size="11" fill="#555555">link labels: records stored by the target / records sent</text>"##,
        height - 14.0,
        height - 14.0,
        height - 14.0
    );
    out.push_str("</svg>\n");
    out
}
