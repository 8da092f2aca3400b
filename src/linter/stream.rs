//! Results leave the engine file by file, in display-path order, as soon as no check still
//! running can add to them: the report is written while the tree is checked, and memory holds
//! the findings of the files in flight, not of the tree.
//!
//! [`Merger`] gathers each check's findings under the file they point into (a Compose project
//! reports into its override, `include` and `.env` files and the Dockerfiles it builds) and
//! hands over every file below a *watermark*: a path no check still to finish can report into.
//! [`ordered`] runs checks in parallel and returns their results in order, holding a bounded
//! number of results that wait for an earlier one.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::diagnostic::{Diagnostic, Secrets};
use crate::linter::FileResult;
use crate::source::normalize;

/// One file's findings (all of them, suppressed ones included), sorted and without duplicates,
/// and whether the file was checked (else it only holds findings of a check of another file).
#[derive(Debug)]
pub struct Group {
    pub display: String,
    pub checked: bool,
    pub findings: Vec<Diagnostic>,
}

/// The findings waiting for their file's turn.
#[derive(Debug, Default)]
pub struct Merger {
    pending: BTreeMap<String, Bucket>,
    /// Secret spans of every check finished (by file path): a file's snippets are masked with
    /// all of them, whichever finding shows the file.
    secrets: Secrets,
    /// Files listed as checked (the bytes of the normalized path; hashed in one pass, not
    /// `Path`'s component by component): a file read by several checks is listed once.
    listed: HashSet<Box<[u8]>, foldhash::fast::RandomState>,
    /// Every file below this was handed over (`None`: nothing yet).
    flushed: Option<String>,
}

#[derive(Debug, Default)]
struct Bucket {
    checked: bool,
    /// The highest display path of another file its findings show (a label's, a secret's):
    /// the file is handed over only once that file's checks are done too, so its secrets are
    /// known when a snippet of it is shown (masked).
    shows: Option<String>,
    /// Findings by the check they came from (its file's display path): of two equal findings
    /// from two checks, the one of the check that sorts first is kept.
    parts: Vec<(Arc<str>, Vec<Diagnostic>)>,
}

impl Merger {
    /// Takes a finished check's results.
    pub fn add(&mut self, r: FileResult) {
        let unit: Arc<str> = Arc::from(r.file.display.as_str());
        for f in std::iter::once(&r.file).chain(&r.extra_files) {
            let path = normalize(&f.path).into_os_string().into_encoded_bytes();
            if self.listed.insert(path.into_boxed_slice()) {
                self.bucket(&f.display).checked = true;
            }
        }
        for d in r.diagnostics {
            for (file, span) in &d.secrets {
                self.secrets
                    .entry(file.path.clone())
                    .or_default()
                    .push(*span);
            }
            let shown = (d.files())
                .map(|f| f.display.as_str())
                .filter(|f| *f != d.file.display)
                .max();
            let bucket = self.bucket(&d.file.display);
            if let Some(shown) = shown
                && bucket.shows.as_deref().is_none_or(|s| s < shown)
            {
                bucket.shows = Some(shown.to_string());
            }
            match bucket.parts.last_mut() {
                Some((u, v)) if Arc::ptr_eq(u, &unit) => v.push(d),
                _ => bucket.parts.push((unit.clone(), vec![d])),
            }
        }
    }

    fn bucket(&mut self, display: &str) -> &mut Bucket {
        // A check reports only into files at or above its watermark (see [`lower_bound`]); one
        // that did not would be handed over out of order, never lost.
        debug_assert!(
            self.flushed.as_deref().is_none_or(|f| display >= f),
            "a finding in {display} arrived after files up to {:?} were handed over",
            self.flushed
        );
        self.pending.entry(display.to_string()).or_default()
    }

    /// Hands over, in order, every file whose display path is below `below` (`None`: all).
    pub fn flush(
        &mut self,
        below: Option<&str>,
        emit: &mut dyn FnMut(Group, &Secrets) -> io::Result<()>,
    ) -> io::Result<()> {
        while let Some(entry) = self.pending.first_entry() {
            if let Some(b) = below
                && (entry.key().as_str() >= b
                    || entry.get().shows.as_deref().is_some_and(|s| s >= b))
            {
                break;
            }
            let (display, bucket) = entry.remove_entry();
            let mut parts = bucket.parts;
            parts.sort_by(|a, b| a.0.cmp(&b.0));
            let mut findings: Vec<Diagnostic> = parts.into_iter().flat_map(|(_, v)| v).collect();
            super::sort(&mut findings);
            let group = Group {
                display,
                checked: bucket.checked,
                findings,
            };
            emit(group, &self.secrets)?;
        }
        // Everything below the first file still waiting was handed over.
        let done = match (self.pending.keys().next(), below) {
            (Some(k), Some(b)) => Some(k.as_str().min(b)),
            (None, b) => b,
            (Some(_), None) => None,
        };
        if let Some(d) = done
            && self.flushed.as_deref().is_none_or(|f| f < d)
        {
            self.flushed = Some(d.to_string());
        }
        Ok(())
    }
}

/// The lowest display path a check of the file at `display` can report into, when no Compose
/// service builds it: its directory (its `.dockerignore`, `<name>.dockerignore` and the file
/// itself are all in it).
pub fn lower_bound(display: &str) -> &str {
    display.rfind('/').map_or("", |i| &display[..=i])
}

/// Runs `f` over `items` on `threads` threads and hands each output to `consume` in item order.
/// At most `ahead` items past the one `consume` waits for are started, so at most that many
/// outputs are held. `consume` returning `Break` stops the run (items not started are not run).
pub fn ordered<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    ahead: usize,
    f: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(R) -> ControlFlow<()>,
) {
    if threads <= 1 || items.len() <= 1 {
        // no thread to start for one item (a file named alone: the pre-commit path)
        for item in items {
            if consume(f(item)).is_break() {
                break;
            }
        }
        return;
    }
    let ahead = ahead.max(1);
    let next = AtomicUsize::new(0);
    let state = Mutex::new(Window {
        consumed: 0,
        stop: false,
        waiting: 0,
    });
    let room = Condvar::new();
    let stop = |state: &Mutex<Window>| halt(state, &room);
    let panicked = std::thread::scope(|scope| {
        // Outputs go to the consumer a few at a time: each send may wake it (a `futex` call and
        // a context switch, once a file before). A worker sends what it holds before it waits
        // for room, so the output the consumer waits for is never held back by a sleeper.
        let (tx, rx) = std::sync::mpsc::channel::<Vec<(usize, R)>>();
        let mut workers = Vec::new();
        for _ in 0..threads.max(1) {
            let tx = tx.clone();
            let (next, state, room, f) = (&next, &state, &room, &f);
            workers.push(scope.spawn(move || {
                let mut held = Vec::with_capacity(SEND_EVERY);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    if !wait_for_room(state, room, i, ahead, &mut held, &tx) {
                        return;
                    }
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&items[i]))) {
                        Ok(r) => {
                            held.push((i, r));
                            if held.len() >= SEND_EVERY
                                && tx.send(std::mem::take(&mut held)).is_err()
                            {
                                return;
                            }
                        }
                        Err(panic) => {
                            // No one waits for an item that will never come.
                            stop(state);
                            std::panic::resume_unwind(panic);
                        }
                    }
                }
                if !held.is_empty() {
                    let _ = tx.send(held);
                }
            }));
        }
        drop(tx);
        // A panic of `consume` unwinds through here: the scope then waits for the workers,
        // and one waiting for room would wait for ever.
        let _stop = StopOnDrop(&state, &room);
        let mut waiting: BTreeMap<usize, R> = BTreeMap::new();
        let mut expected = 0;
        'recv: for (i, r) in rx.iter().flatten() {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&expected) {
                expected += 1;
                let flow = consume(r);
                // A wake-up is a system call even when no one sleeps: made only for a sleeper
                // (it was one a file, half of a `--select` run's futex calls).
                let sleepers = state.lock().map_or(1, |mut s| {
                    s.consumed = expected;
                    s.waiting
                });
                if sleepers > 0 {
                    room.notify_all();
                }
                if flow.is_break() {
                    stop(&state);
                    break 'recv;
                }
            }
        }
        drop(rx);
        // Every worker joined here (a panic left to the scope would lose its message); the
        // first check that panicked is re-raised with its own.
        let panics: Vec<_> = workers.into_iter().filter_map(|w| w.join().err()).collect();
        panics.into_iter().next()
    });
    if let Some(panic) = panicked {
        std::panic::resume_unwind(panic);
    }
}

/// Stops the window when dropped, waking every worker that waits for room.
struct StopOnDrop<'s>(&'s Mutex<Window>, &'s Condvar);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        halt(self.0, self.1);
    }
}

/// Stops the window: no item is started after this, and every worker waiting for room wakes.
fn halt(state: &Mutex<Window>, room: &Condvar) {
    state.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
    room.notify_all();
}

struct Window {
    consumed: usize,
    stop: bool,
    /// Workers waiting for room.
    waiting: usize,
}

/// Outputs a worker holds before it sends them to the consumer.
const SEND_EVERY: usize = 8;

/// Waits until item `i` is within `ahead` of the next one to consume, first sending the
/// outputs the worker holds (the one the consumer waits for may be among them); false when
/// stopped or the consumer is gone.
fn wait_for_room<R>(
    state: &Mutex<Window>,
    room: &Condvar,
    i: usize,
    ahead: usize,
    held: &mut Vec<(usize, R)>,
    tx: &std::sync::mpsc::Sender<Vec<(usize, R)>>,
) -> bool {
    let Ok(mut s) = state.lock() else {
        return false;
    };
    while !s.stop && i >= s.consumed + ahead {
        if !held.is_empty() {
            drop(s);
            if tx.send(std::mem::take(held)).is_err() {
                return false;
            }
            s = match state.lock() {
                Ok(s) => s,
                Err(_) => return false,
            };
            continue;
        }
        s.waiting += 1;
        s = match room.wait(s) {
            Ok(s) => s,
            Err(_) => return false,
        };
        s.waiting -= 1;
    }
    !s.stop
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic of the consumer reaches the caller; the workers waiting for room are woken, not
    /// left waiting (the run used to hang).
    #[test]
    fn a_panicking_consumer_stops_the_workers() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let items: Vec<usize> = (0..200).collect();
            let outcome = std::panic::catch_unwind(|| {
                ordered(
                    &items,
                    2,
                    2,
                    |&i| i,
                    |i| {
                        assert!(i < 3, "consumer fails at {i}");
                        ControlFlow::Continue(())
                    },
                )
            });
            let _ = tx.send(outcome.is_err());
        });
        let outcome = rx.recv_timeout(std::time::Duration::from_secs(20));
        assert_eq!(outcome, Ok(true), "the run hung or did not panic");
    }

    #[test]
    fn ordered_keeps_order_and_bounds_the_window() {
        let items: Vec<usize> = (0..500).collect();
        let in_flight = AtomicUsize::new(0);
        let max = AtomicUsize::new(0);
        let mut out = Vec::new();
        ordered(
            &items,
            4,
            8,
            |&i| {
                let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                // later items finish first now and then
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
                i
            },
            |i| {
                out.push(i);
                ControlFlow::Continue(())
            },
        );
        assert_eq!(out, items);
        assert!(max.load(Ordering::SeqCst) <= 4);
    }

    #[test]
    fn ordered_stops_when_told() {
        let items: Vec<usize> = (0..10_000).collect();
        let ran = AtomicUsize::new(0);
        let mut seen = 0;
        ordered(
            &items,
            2,
            4,
            |&i| {
                ran.fetch_add(1, Ordering::SeqCst);
                i
            },
            |_| {
                seen += 1;
                if seen == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(seen, 3);
        assert!(
            ran.load(Ordering::SeqCst) <= 3 + 4 + 2,
            "{}",
            ran.load(Ordering::SeqCst)
        );
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn a_panicking_check_does_not_hang_the_run() {
        let items: Vec<usize> = (0..100).collect();
        ordered(
            &items,
            2,
            2,
            |&i| {
                assert!(i != 5, "boom");
                i
            },
            |_| ControlFlow::Continue(()),
        );
    }

    fn result(
        file: &crate::source::FileRef,
        findings: &[(&crate::source::FileRef, Option<&crate::source::FileRef>)],
    ) -> FileResult {
        let diagnostics = findings
            .iter()
            .map(|(f, label)| {
                let mut d = Diagnostic::new(
                    crate::docs::ROOT_USER,
                    (*f).clone(),
                    crate::source::Span::at(0),
                    "m",
                );
                if let Some(l) = label {
                    d.label(l, crate::source::Span::at(0), "here");
                }
                d
            })
            .collect();
        FileResult {
            file: file.clone(),
            kind: crate::discover::FileKind::Dockerfile,
            diagnostics,
            extra_files: Vec::new(),
            built: Vec::new(),
        }
    }

    fn file(name: &str) -> crate::source::FileRef {
        crate::source::SourceFile::virtual_file(name, "FROM x\n").into_ref()
    }

    /// A file is handed over only below the watermark, and only once the files its findings
    /// show (labels) are below it too; equal findings of two checks are reported once.
    #[test]
    fn merger_hands_over_in_order_and_waits_for_shown_files() {
        let (a, b, c) = (
            file("a/Dockerfile"),
            file("b/Dockerfile"),
            file("z/Dockerfile"),
        );
        let mut m = Merger::default();
        m.add(result(&a, &[(&a, Some(&c))]));
        m.add(result(&b, &[(&b, None)]));
        m.add(result(&b, &[(&b, None)]));
        let out = std::cell::RefCell::new(Vec::new());
        let mut emit = |g: Group, _: &Secrets| {
            out.borrow_mut()
                .push((g.display.clone(), g.findings.len(), g.checked));
            Ok(())
        };
        m.flush(Some("c/"), &mut emit).unwrap();
        // `a` shows `z/Dockerfile`, whose check may still come: nothing yet
        assert!(out.borrow().is_empty(), "{out:?}");
        m.add(result(&c, &[(&c, None)]));
        m.flush(None, &mut emit).unwrap();
        assert_eq!(
            out.into_inner(),
            vec![
                ("a/Dockerfile".to_string(), 1, true),
                ("b/Dockerfile".to_string(), 1, true),
                ("z/Dockerfile".to_string(), 1, true),
            ]
        );
    }

    #[test]
    fn lower_bounds() {
        assert_eq!(lower_bound("a/b/Dockerfile"), "a/b/");
        assert_eq!(lower_bound("Dockerfile"), "");
        assert_eq!(lower_bound("/abs/Dockerfile"), "/abs/");
    }
}
