//! The roots [`super::files`] parsed lately on this thread. Projects of one directory often extend
//! the same base file at the same number (seven `docker-compose-*.yaml` each extending
//! `base.yaml` through `base-solo.yaml`): it is parsed once. A root is reused only for the same
//! path and text, so the answer is the parse's: at another file number (a project numbering its
//! files otherwise) with its spans moved ([`crate::compose::yaml::in_file`]). The cache is
//! bounded by count and bytes.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{FileRef, Node};

/// At most this many roots, and this many bytes of their texts, per thread; a larger file
/// is not kept.
const MAX_ENTRIES: usize = 16;
const MAX_BYTES: usize = 256 << 10;

struct Entry {
    path: PathBuf,
    idx: u16,
    file: FileRef,
    root: Option<Rc<Node>>,
}

thread_local! {
    static RECENT: RefCell<VecDeque<Entry>> = const { RefCell::new(VecDeque::new()) };
}

/// The root of `file` (at `path`, numbered `idx`): a recent one, else `parse(file)`.
pub(super) fn parsed(
    path: &Path,
    idx: u16,
    file: &FileRef,
    parse: impl FnOnce(&FileRef) -> Option<Rc<Node>>,
) -> Option<Rc<Node>> {
    let hit = RECENT.with_borrow(|recent| {
        (recent.iter())
            .find(|e| e.path == path && e.file.text == file.text)
            .map(|e| (e.idx, e.root.clone()))
    });
    match hit {
        Some((at, root)) if at == idx => return root,
        // parsed as another file number: the same tree with its spans moved
        Some((_, root)) => return root.map(|r| crate::compose::yaml::in_file(&r, idx)),
        None => {}
    }
    let root = parse(file);
    if file.text.len() <= MAX_BYTES / 4 {
        RECENT.with_borrow_mut(|recent| {
            recent.push_back(Entry {
                path: path.to_path_buf(),
                idx,
                file: file.clone(),
                root: root.clone(),
            });
            let mut bytes: usize = recent.iter().map(|e| e.file.text.len()).sum();
            while recent.len() > MAX_ENTRIES || bytes > MAX_BYTES {
                let Some(old) = recent.pop_front() else { break };
                bytes -= old.file.text.len();
            }
        });
    }
    root
}
