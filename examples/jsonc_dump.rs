//! Prints each file's JSONC tree as canonical JSON (keys in order, last duplicate wins), or
//! `ERROR <message>`: the side of the jsonc differential that is ours.
use sandlint::compose::jsonc;
use sandlint::compose::yaml::{Node, NodeKind, Style};

fn json(n: &Node, out: &mut String) {
    match &n.kind {
        NodeKind::Scalar { value, style } => {
            if *style == Style::DoubleQuoted {
                out.push_str(&serde_json::to_string(value).unwrap_or_default());
            } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(value) {
                out.push_str(&v.to_string());
            } else {
                out.push_str(value);
            }
        }
        NodeKind::Seq(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(it, out);
            }
            out.push(']');
        }
        NodeKind::Map(pairs) => {
            let mut keys: Vec<&str> = Vec::new();
            for (k, _) in pairs {
                let k = k.scalar().unwrap_or("");
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            // a JavaScript object lists integer-like keys first, ascending
            let index = |k: &str| k.parse::<u32>().ok().filter(|n| n.to_string() == k);
            keys.sort_by_key(|k| index(k).map_or((1, 0), |n| (0, n)));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                if let Some(v) = jsonc::last(n, k) {
                    json(v, out);
                }
            }
            out.push('}');
        }
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the differential script reads these lines"
)]
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let p = jsonc::parse_in(&text, 0);
        match (p.docs.first(), p.errors.first()) {
            (Some(root), None) => {
                let mut s = String::new();
                json(root, &mut s);
                println!("{path}\t{s}");
            }
            (_, Some(e)) => println!("{path}\tERROR {}", e.message),
            _ => println!("{path}\tERROR none"),
        }
    }
}
