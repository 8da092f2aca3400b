//! The steps after the rules ran that do not depend on which rules run: findings relocated to
//! the file of the check they are in, scoped to a service or stage, secrets masked in
//! messages, fingerprints.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::dockerfile;
use crate::source::{FileRef, Span};

/// Messages, help and labels that quote the source (a pipeline, a command, a value) never show
/// a secret value some rule marked in the same check: each one is replaced by `*`s. Values
/// shorter than 4 bytes are left alone (they would mask ordinary words).
pub(super) fn mask_secrets_in_messages(diagnostics: &mut [Diagnostic]) {
    let mut secrets: Vec<String> = diagnostics
        .iter()
        .flat_map(|d| d.secrets.iter().map(|(f, s)| f.slice(*s).to_string()))
        .filter(|s| s.len() >= 4)
        .collect();
    if secrets.is_empty() {
        return;
    }
    secrets.sort();
    secrets.dedup();
    let Ok(ac) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&secrets)
    else {
        return;
    };
    let stars: Vec<String> = secrets
        .iter()
        .map(|s| "*".repeat(s.chars().count()))
        .collect();
    let mask = |text: &mut String| {
        if ac.is_match(text.as_str()) {
            *text = ac.replace_all(text, &stars);
        }
    };
    for d in diagnostics.iter_mut() {
        mask(&mut d.message);
        if let Some(h) = &mut d.help
            && ac.is_match(h.as_ref())
        {
            *h = ac.replace_all(h, &stars).into();
        }
        for l in &mut d.labels {
            mask(&mut l.message);
        }
    }
}

/// Points findings and labels whose span is in another file of the check at that file.
pub(super) fn relocate(files: &[FileRef], diagnostics: &mut [Diagnostic]) {
    let Some(primary) = files.first() else { return };
    for d in diagnostics.iter_mut() {
        if d.span.file != 0
            && std::sync::Arc::ptr_eq(&d.file, primary)
            && let Some(f) = files.get(usize::from(d.span.file))
        {
            d.file = f.clone();
        }
        for l in &mut d.labels {
            if l.span.file != 0
                && std::sync::Arc::ptr_eq(&l.file, primary)
                && let Some(f) = files.get(usize::from(l.span.file))
            {
                l.file = f.clone();
            }
        }
        // Secret spans too: reports mask a secret in the file it is paired with, so one left
        // paired with the primary file would be printed in clear from the override/include.
        for (file, span) in &mut d.secrets {
            if span.file != 0
                && std::sync::Arc::ptr_eq(file, primary)
                && let Some(f) = files.get(usize::from(span.file))
            {
                *file = f.clone();
            }
        }
    }
}
/// Stage spans of a Dockerfile, for finding scopes.
pub(super) fn stage_scopes(df: &dockerfile::model::Dockerfile) -> Vec<(Span, Arc<str>)> {
    df.stages
        .iter()
        .filter_map(|st| {
            let insts = df.stage_instructions(st);
            let span = insts.first()?.span.cover(insts.last()?.span);
            let name = st
                .name
                .as_ref()
                .map_or_else(|| st.image.value.clone(), |n| n.value.clone());
            Some((span, format!("stage:{name}").into()))
        })
        .collect()
}

/// Sets each finding's scope: the innermost service or stage holding its primary span.
pub(super) fn assign_scopes(scopes: &[(Span, Arc<str>)], diagnostics: &mut [Diagnostic]) {
    // The smallest scope containing each finding's start (the first of equal ones), found by a
    // sweep over both in position order: O((scopes + findings) log scopes), where a scan of
    // every scope per finding was quadratic in services.
    use std::cmp::Reverse;
    use std::collections::{BTreeSet, BinaryHeap};
    let mut order: Vec<usize> = (0..scopes.len()).collect();
    order.sort_by_key(|&i| scopes.get(i).map(|(s, _)| (s.file, s.start)));
    let mut todo: Vec<usize> = (0..diagnostics.len())
        .filter(|&i| diagnostics.get(i).is_some_and(|d| d.scope.is_none()))
        .collect();
    todo.sort_by_key(|&i| diagnostics.get(i).map(|d| (d.span.file, d.span.start)));
    let mut next = 0;
    let mut file = None;
    // (length, index) of the scopes that contain the current position, and their ends
    let mut active: BTreeSet<(u32, usize)> = BTreeSet::new();
    let mut ends: BinaryHeap<Reverse<(u32, u32, usize)>> = BinaryHeap::new();
    for i in todo {
        let Some(d) = diagnostics.get_mut(i) else {
            continue;
        };
        let (f, at) = (d.span.file, d.span.start);
        if file != Some(f) {
            file = Some(f);
            active.clear();
            ends.clear();
        }
        while let Some((span, _)) = order.get(next).and_then(|&k| scopes.get(k)) {
            if (span.file, span.start) > (f, at) {
                break;
            }
            if span.file == f {
                let k = order.get(next).copied().unwrap_or(0);
                active.insert((span.len(), k));
                ends.push(Reverse((span.end, span.len(), k)));
            }
            next += 1;
        }
        while let Some(&Reverse((end, len, k))) = ends.peek() {
            if end >= at {
                break;
            }
            active.remove(&(len, k));
            ends.pop();
        }
        d.scope = active
            .first()
            .and_then(|&(_, k)| scopes.get(k))
            .map(|(_, name)| name.clone());
    }
}
/// Sets each finding's fingerprint: a stable hash of rule, file, scope, the whitespace-normalized
/// source text under the span, and the occurrence number among findings that share all of those.
/// Messages and line numbers are not part of it.
pub(super) fn assign_fingerprints(diagnostics: &mut [Diagnostic]) {
    use crate::diagnostic::StableHasher;
    // Keyed by the key's hash: equal hashes are equal key strings (its 16 hex digits).
    let mut seen: HashMap<u64, u64> = HashMap::new();
    for d in diagnostics.iter_mut() {
        // The same bytes as `stable_hash(&[code, display, scope, snippet])` with the snippet's
        // words joined by one space (or, when there are none, its line trimmed): no string built.
        let mut key = StableHasher::new();
        key.part(d.rule.code);
        key.part(&d.file.display);
        key.part(d.scope.as_deref().unwrap_or_default());
        let mut words = d.file.slice(d.span).split_whitespace();
        if let Some(first) = words.next() {
            key.write(first.as_bytes());
            for w in words {
                key.write(b" ");
                key.write(w.as_bytes());
            }
        } else {
            let line = d.file.line_col(d.span.start).line;
            let start = d.file.line_start(line).unwrap_or(0);
            let end = d.file.line_start(line + 1).unwrap_or(d.file.len());
            key.write(d.file.slice(Span::new(start, end)).trim().as_bytes());
        }
        key.end_part();
        let n = seen.entry(key.finish()).or_insert(0);
        let mut fingerprint = StableHasher::new();
        fingerprint.part_hex(key);
        fingerprint.part_decimal(*n);
        d.fingerprint = fingerprint.hex();
        *n += 1;
    }
}
