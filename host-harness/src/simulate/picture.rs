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
        let dropped =
            s.dropped_loop + s.dropped_duplicate + s.dropped_local_write + s.dropped_other;
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

/// An axis-aligned bounding box.
#[derive(Clone, Copy)]
struct Bounds {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Bounds {
    fn new() -> Self {
        Bounds {
            x0: f64::MAX,
            y0: f64::MAX,
            x1: f64::MIN,
            y1: f64::MIN,
        }
    }

    fn add(&mut self, x: f64, y: f64) {
        self.x0 = self.x0.min(x);
        self.y0 = self.y0.min(y);
        self.x1 = self.x1.max(x);
        self.y1 = self.y1.max(y);
    }

    fn add_box(&mut self, cx: f64, cy: f64, w: f64, h: f64) {
        self.add(cx - w / 2.0, cy - h / 2.0);
        self.add(cx + w / 2.0, cy + h / 2.0);
    }
}

/// The topology as SVG: clusters on a circle, links as arrows with their counts. Links
/// between the same two clusters are bent apart so that they and their labels do not
/// overlap; a lone link is straight.
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
    let labels: Vec<(f64, f64, Vec<String>)> = (0..topo.links.len())
        .map(|i| {
            let lines = link_lines(report, i);
            let w = lines
                .iter()
                .map(|s| text_width(s, 10.0))
                .fold(0.0, f64::max)
                + 8.0;
            let h = 13.0 * lines.len() as f64 + 4.0;
            (w, h, lines)
        })
        .collect();
    let widest = boxes.iter().map(|b| b.0).fold(0.0, f64::max);
    let widest_label = labels.iter().map(|b| b.0).fold(0.0, f64::max);
    // Neighbours on the circle sit at least a box and a label apart.
    let chord = widest * 0.6 + widest_label * 0.8 + 60.0;
    let radius = if n == 1 {
        0.0
    } else {
        chord / (2.0 * (std::f64::consts::PI / n as f64).sin())
    };
    let pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            (radius * a.cos(), radius * a.sin())
        })
        .collect();
    let mut bounds = Bounds::new();
    for (c, (w, h, _)) in boxes.iter().enumerate() {
        bounds.add_box(pos[c].0, pos[c].1, *w, *h);
    }

    // Links between the same two clusters get slots along the pair's normal, spaced by
    // their labels' extent in that direction.
    let mut pairs: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, l) in topo.links.iter().enumerate() {
        pairs
            .entry((l.from.min(l.to), l.from.max(l.to)))
            .or_default()
            .push(i);
    }
    let mut bend = vec![0.0; topo.links.len()];
    for (&(a, b), members) in &pairs {
        let (dx, dy) = (pos[b].0 - pos[a].0, pos[b].1 - pos[a].1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (-dy / len, dx / len);
        let spacing = members
            .iter()
            .map(|&i| nx.abs() * labels[i].0 + ny.abs() * labels[i].1)
            .fold(0.0, f64::max)
            + 14.0;
        let m = members.len() as f64;
        for (j, &i) in members.iter().enumerate() {
            // The label sits half the bend away from the straight line.
            let offset = (j as f64 - (m - 1.0) / 2.0) * spacing;
            let canonical = topo.links[i].from == a;
            bend[i] = if canonical {
                2.0 * offset
            } else {
                -2.0 * offset
            };
        }
    }

    let mut body = String::new();
    let mut label_text = String::new();
    // Boxes drawn so far (centre, size): clusters, then labels as they are placed.
    let mut placed: Vec<(f64, f64, f64, f64)> = boxes
        .iter()
        .enumerate()
        .map(|(c, (w, h, _))| (pos[c].0, pos[c].1, *w, *h))
        .collect();
    for (i, l) in topo.links.iter().enumerate() {
        let (x1, y1) = pos[l.from];
        let (x2, y2) = pos[l.to];
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (-dy / len, dx / len);
        let (qx, qy) = (
            (x1 + x2) / 2.0 + nx * bend[i],
            (y1 + y2) / 2.0 + ny * bend[i],
        );
        let clip = |(px, py): (f64, f64), (w, h): (f64, f64), (tx, ty): (f64, f64)| {
            let (ux, uy) = (tx - px, ty - py);
            let t = [
                if ux.abs() > 1e-9 {
                    (w / 2.0 + 4.0) / ux.abs()
                } else {
                    f64::MAX
                },
                if uy.abs() > 1e-9 {
                    (h / 2.0 + 4.0) / uy.abs()
                } else {
                    f64::MAX
                },
            ]
            .into_iter()
            .fold(f64::MAX, f64::min)
            .min(1.0);
            (px + ux * t, py + uy * t)
        };
        let (sx, sy) = clip(pos[l.from], (boxes[l.from].0, boxes[l.from].1), (qx, qy));
        let (ex, ey) = clip(pos[l.to], (boxes[l.to].0, boxes[l.to].1), (qx, qy));
        let (color, marker, width) = match l.kind {
            LinkKind::Bridge => (BRIDGE, "bridge", 1.6),
            LinkKind::NativeMirror => (NATIVE, "native", 2.6),
        };
        let _ = writeln!(
            body,
            r#"<path d="M {sx:.1} {sy:.1} Q {qx:.1} {qy:.1} {ex:.1} {ey:.1}" fill="none" stroke="{color}" stroke-width="{width}" marker-end="url(#arrow-{marker})"><title>{}</title></path>"#,
            xml(&l.name)
        );
        // The label goes at the curve's middle, or slides along it to avoid what is
        // already drawn.
        let (w, h, lines) = &labels[i];
        let at = |t: f64| {
            let (a, b, c) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
            (a * sx + b * qx + c * ex, a * sy + b * qy + c * ey)
        };
        let overlap = |(x, y): (f64, f64)| -> f64 {
            placed
                .iter()
                .map(|&(px, py, pw, ph): &(f64, f64, f64, f64)| {
                    let ox = ((w + pw) / 2.0 + 4.0 - (x - px).abs()).max(0.0);
                    let oy = ((h + ph) / 2.0 + 4.0 - (y - py).abs()).max(0.0);
                    ox * oy
                })
                .sum()
        };
        let (mx, my) = [0.5, 0.38, 0.62, 0.3, 0.7, 0.25, 0.75]
            .into_iter()
            .map(at)
            .fold((f64::MAX, (0.0, 0.0)), |best, p| {
                let o = overlap(p);
                if o < best.0 {
                    (o, p)
                } else {
                    best
                }
            })
            .1;
        placed.push((mx, my, *w, *h));
        bounds.add_box(mx, my, *w, *h);
        let _ = writeln!(
            label_text,
            r##"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" rx="3" fill="#ffffff" fill-opacity="0.9" stroke="{color}" stroke-width="0.5"/>"##,
            mx - w / 2.0,
            my - h / 2.0
        );
        for (j, line) in lines.iter().enumerate() {
            let _ = writeln!(
                label_text,
                r#"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="10" fill="{color}">{}</text>"#,
                my - h / 2.0 + 12.0 + 13.0 * j as f64,
                xml(line)
            );
        }
    }
    for (c, (w, h, lines)) in boxes.iter().enumerate() {
        let (x, y) = pos[c];
        let _ = writeln!(
            body,
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
                body,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="{fs}" font-weight="{weight}">{}</text>"#,
                y - h / 2.0 + 19.0 + dy,
                xml(line)
            );
        }
    }
    body.push_str(&label_text);

    let title = format!("{}, seed {}: {}", topo.name, report.seed, verdict(report));
    let legend = 430.0;
    let margin = 24.0;
    let width = (bounds.x1 - bounds.x0 + 2.0 * margin)
        .max(text_width(&title, 16.0) + 2.0 * margin)
        .max(legend);
    let (top, bottom) = (50.0, 40.0);
    let height = bounds.y1 - bounds.y0 + 2.0 * margin + top + bottom;
    // Centre the drawing horizontally; shift it below the title.
    let dx = (width - (bounds.x1 - bounds.x0)) / 2.0 - bounds.x0;
    let dy = top + margin - bounds.y0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif">"#
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
        r##"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.0}" y="30" text-anchor="middle" font-size="16" font-weight="bold">{}, seed {}: <tspan fill="{}">{}</tspan></text>"#,
        width / 2.0,
        xml(&topo.name),
        report.seed,
        if report.passed { PASS } else { FAIL },
        xml(&verdict(report))
    );
    let _ = writeln!(out, r#"<g transform="translate({dx:.1},{dy:.1})">"#);
    out.push_str(&body);
    out.push_str("</g>\n");
    let y = height - 14.0;
    let _ = writeln!(
        out,
        r##"<text x="12" y="{y:.0}" font-size="11" fill="{BRIDGE}">&#8594; bridge</text><text x="80" y="{y:.0}" font-size="11" fill="{NATIVE}">&#8594; native mirror</text><text x="190" y="{y:.0}" font-size="11" fill="#555555">links: records stored by the target / sent</text>"##
    );
    out.push_str("</svg>\n");
    out
}
