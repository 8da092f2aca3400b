//! `sandlint server`: a language server over standard input and output.
//!
//! Diagnostics for the open Dockerfiles and Compose files as they are edited, hover with the
//! rule's doc, code actions that suppress a finding. Built on `lsp-server` (rust-analyzer's
//! synchronous scaffold: a [`lsp_server::Connection`] of channels) over our own bounded framing
//! ([`transport`]), with the protocol types of `lsp-types`.
//!
//! One thread lints; changes that arrive within [`DEBOUNCE`] of each other are linted once.
//! A request (hover, code action) first lints what changed, so it sees the text it names.

use std::collections::BTreeSet;
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, HoverParams, InitializeParams, PositionEncodingKind,
    PublishDiagnosticsParams,
};

use crate::config::CliOverrides;
use crate::fsread::MAX_FILE_BYTES;

mod actions;
mod convert;
mod state;
pub mod text;
pub mod transport;

pub use state::kind_of;
use state::{Doc, State};
use text::Encoding;

/// How long the server waits after a change for more before linting.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `shutdown`, then `exit`.
    Shutdown,
    /// `exit` without `shutdown`, or the input ended.
    Abandoned,
}

/// Serves one client over `input` and `output` until it exits. The error: the connection
/// broke (malformed framing, a message over the limit, a write failed).
pub fn serve(
    input: Box<dyn BufRead + Send>,
    output: Box<dyn Write + Send>,
    cli: CliOverrides,
) -> io::Result<Ended> {
    let (connection, threads) = transport::connect(input, output)?;
    let outcome = session(&connection, cli);
    drop(connection);
    let exited = matches!(outcome, Ok(Ended::Shutdown));
    let joined = threads.join(exited);
    let ended = outcome?;
    // the input ended or broke before `exit`: its error is the session's
    joined.map(|()| ended)
}

fn protocol(e: lsp_server::ProtocolError) -> io::Error {
    io::Error::other(e.to_string())
}

fn session(connection: &Connection, cli: CliOverrides) -> io::Result<Ended> {
    let (id, params) = match connection.initialize_start() {
        Ok(x) => x,
        Err(e) if e.channel_is_disconnected() => return Ok(Ended::Abandoned),
        Err(e) => return Err(protocol(e)),
    };
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let offers_utf8 = (params.capabilities.general.as_ref())
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
    let enc = if offers_utf8 {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let result = serde_json::json!({
        "capabilities": {
            "positionEncoding": if offers_utf8 { "utf-8" } else { "utf-16" },
            "textDocumentSync": {
                "openClose": true,
                "change": 2,
                "save": { "includeText": false },
            },
            "hoverProvider": true,
            "codeActionProvider": { "codeActionKinds": ["quickfix"] },
        },
        "serverInfo": { "name": "sandlint", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result).map_err(protocol)?;
    let can_watch = (params.capabilities.workspace.as_ref())
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        == Some(true);
    if can_watch {
        watch_files(connection)?;
    }
    let mut server = Server {
        connection,
        state: State::new(cli),
        enc,
        pending: BTreeSet::new(),
        shut_down: false,
    };
    server.run()
}

struct Server<'c> {
    connection: &'c Connection,
    state: State,
    enc: Encoding,
    /// Documents changed since they were last linted.
    pending: BTreeSet<String>,
    /// `shutdown` was answered: the next message that counts is `exit`.
    shut_down: bool,
}

impl Server<'_> {
    fn run(&mut self) -> io::Result<Ended> {
        let mut deadline: Option<Instant> = None;
        loop {
            let msg = match deadline {
                None => self.connection.receiver.recv().ok(),
                Some(at) => match self.connection.receiver.recv_deadline(at) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => {
                        deadline = None;
                        self.flush()?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => None,
                },
            };
            let Some(msg) = msg else {
                return Ok(Ended::Abandoned);
            };
            match msg {
                // after `shutdown`, only `exit` (notifications are dropped, requests refused)
                Message::Request(req) if self.shut_down => {
                    let refused = Response::new_err(
                        req.id,
                        ErrorCode::InvalidRequest as i32,
                        "the server is shut down".to_string(),
                    );
                    self.send(refused.into())?;
                }
                Message::Request(req) if req.method == lsp_types::request::Shutdown::METHOD => {
                    self.shut_down = true;
                    deadline = None;
                    self.pending.clear();
                    self.send(Response::new_ok(req.id, ()).into())?;
                }
                Message::Request(req) => {
                    self.flush()?;
                    deadline = None;
                    let response = self.request(req);
                    self.send(response.into())?;
                }
                Message::Notification(n) if n.method == lsp_types::notification::Exit::METHOD => {
                    return Ok(if self.shut_down {
                        Ended::Shutdown
                    } else {
                        Ended::Abandoned
                    });
                }
                Message::Notification(_) if self.shut_down => {}
                Message::Notification(n) => {
                    self.notification(n)?;
                    if !self.pending.is_empty() {
                        deadline.get_or_insert_with(|| Instant::now() + DEBOUNCE);
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) -> io::Result<()> {
        self.connection
            .sender
            .send(msg)
            .map_err(|_| io::Error::other("the client connection closed"))
    }

    fn publish(
        &self,
        uri: &str,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) -> io::Result<()> {
        let Ok(uri) = uri.parse() else {
            return Ok(());
        };
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(
            Notification::new(
                lsp_types::notification::PublishDiagnostics::METHOD.to_string(),
                params,
            )
            .into(),
        )
    }

    /// Lints the changed documents, and the ones depending on them, once each.
    fn flush(&mut self) -> io::Result<()> {
        let mut done: BTreeSet<String> = BTreeSet::new();
        while let Some(uri) = self.pending.pop_first() {
            if !done.insert(uri.clone()) {
                continue;
            }
            let dependants = self.state.lint(&uri);
            self.pending
                .extend(dependants.into_iter().filter(|u| !done.contains(u)));
            let (Some(doc), Some(outcome)) =
                (self.state.docs.get(&uri), self.state.linted.get(&uri))
            else {
                continue;
            };
            let mut at = text::Indexes::new(self.enc);
            let (shown, hidden) = shown(&outcome.findings);
            let mut diagnostics: Vec<lsp_types::Diagnostic> = (shown.into_iter())
                .map(|d| convert::diagnostic(d, &mut at))
                .collect();
            if hidden > 0 {
                diagnostics.insert(
                    0,
                    convert::notice(&format!(
                        "{hidden} more findings, less severe, are not shown (at most {MAX_PUBLISHED} \
                         are); `sandlint check` lists them all"
                    )),
                );
            }
            if let Some(n) = &outcome.notice {
                diagnostics.insert(0, convert::notice(n));
            }
            self.publish(&uri, diagnostics, Some(doc.version))?;
        }
        Ok(())
    }

    fn notification(&mut self, n: Notification) -> io::Result<()> {
        use lsp_types::notification::{
            DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
            DidOpenTextDocument, DidSaveTextDocument,
        };
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                    self.open(p)?;
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                    self.change(p);
                }
            }
            DidSaveTextDocument::METHOD | DidChangeWatchedFiles::METHOD => self.disk_changed(),
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.pending.remove(&uri);
                    let dependants = self.state.close(&uri);
                    self.pending.extend(dependants);
                    self.publish(&uri, Vec::new(), None)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A file was saved (or changed on disk): what was read from disk may be stale, so every
    /// open document is linted again.
    fn disk_changed(&mut self) {
        self.state.disk_changed();
        self.pending.extend(self.state.docs.keys().cloned());
    }

    fn open(&mut self, p: DidOpenTextDocumentParams) -> io::Result<()> {
        let uri = p.text_document.uri.as_str().to_string();
        let Some(path) = text::uri_to_path(&uri) else {
            // not a local file (`untitled:`): nothing to find its config or project by
            return Ok(());
        };
        if !self.state.docs.contains_key(&uri) && self.state.docs.len() >= state::MAX_DOCUMENTS {
            let message = format!(
                "more than {} documents are open; this one is not checked",
                state::MAX_DOCUMENTS
            );
            return self.publish(
                &uri,
                vec![convert::notice(&message)],
                Some(p.text_document.version),
            );
        }
        let mut doc = Doc {
            path,
            text: String::new(),
            version: p.text_document.version,
            language: p.text_document.language_id,
            too_large: false,
        };
        set_text(&mut doc, p.text_document.text);
        self.state.docs.insert(uri.clone(), doc);
        self.pending.insert(uri);
        Ok(())
    }

    fn change(&mut self, p: DidChangeTextDocumentParams) {
        let uri = p.text_document.uri.as_str().to_string();
        let enc = self.enc;
        let Some(doc) = self.state.docs.get_mut(&uri) else {
            return;
        };
        doc.version = p.text_document.version;
        for change in p.content_changes {
            match change.range {
                None => set_text(doc, change.text),
                // a document over the cap is not kept: its edits cannot be applied
                Some(_) if doc.too_large => {}
                Some(range) => {
                    let start = text::offset(&doc.text, enc, range.start);
                    let end = text::offset(&doc.text, enc, range.end).max(start);
                    if doc.text.len() - (end - start) + change.text.len() > MAX_FILE_BYTES as usize
                    {
                        set_text(doc, String::new());
                        doc.too_large = true;
                    } else {
                        doc.text.replace_range(start..end, &change.text);
                    }
                }
            }
        }
        self.pending.insert(uri);
    }

    fn request(&mut self, req: Request) -> Response {
        use lsp_types::request::{CodeActionRequest, HoverRequest};
        let id = req.id.clone();
        match req.method.as_str() {
            HoverRequest::METHOD => match serde_json::from_value::<HoverParams>(req.params) {
                Ok(p) => {
                    let uri = p.text_document_position_params.text_document.uri.as_str();
                    let hover = (self.state.docs.get(uri))
                        .zip(self.state.linted.get(uri))
                        .and_then(|(doc, outcome)| {
                            actions::hover(
                                outcome,
                                doc,
                                self.enc,
                                p.text_document_position_params.position,
                            )
                        });
                    Response::new_ok(id, hover)
                }
                Err(e) => invalid_params(id, &e),
            },
            CodeActionRequest::METHOD => {
                match serde_json::from_value::<CodeActionParams>(req.params) {
                    Ok(p) => {
                        let uri = p.text_document.uri.as_str();
                        let actions = match self.state.docs.get(uri) {
                            Some(doc) => {
                                actions::code_actions(&self.state, uri, doc, self.enc, p.range)
                            }
                            None => Vec::new(),
                        };
                        Response::new_ok(id, actions)
                    }
                    Err(e) => invalid_params(id, &e),
                }
            }
            _ => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!(
                    "sandlint does not serve `{}`",
                    crate::escape::line(&req.method)
                ),
            ),
        }
    }
}

/// Files whose change on disk changes findings: configs, Compose and env files, Dockerfiles
/// and their ignore files. The client reports them (`workspace/didChangeWatchedFiles`), and
/// every open document is linted again.
const WATCHED: &str = "**/{.sandlint.toml,sandlint.toml,.env,*.env,.dockerignore,*.dockerignore,*compose*.yaml,*compose*.yml,*Dockerfile*,*dockerfile*,*Containerfile*}";

/// Asks the client to report changes to the [`WATCHED`] files.
fn watch_files(connection: &Connection) -> io::Result<()> {
    let params = serde_json::json!({
        "registrations": [{
            "id": "sandlint-watched-files",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": { "watchers": [{ "globPattern": WATCHED }] },
        }],
    });
    let request = Request::new(
        lsp_server::RequestId::from("sandlint-register-watchers".to_string()),
        "client/registerCapability".to_string(),
        params,
    );
    connection
        .sender
        .send(request.into())
        .map_err(|_| io::Error::other("the client connection closed"))
}

/// At most this many diagnostics are published for a document (editors slow down on more).
pub const MAX_PUBLISHED: usize = 1000;

/// The findings to publish, in order: all, or the [`MAX_PUBLISHED`] most severe (the first
/// ones at equal severity); and how many are left out.
fn shown(
    findings: &[crate::diagnostic::Diagnostic],
) -> (Vec<&crate::diagnostic::Diagnostic>, usize) {
    if findings.len() <= MAX_PUBLISHED {
        return (findings.iter().collect(), 0);
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(findings[i].severity));
    order.truncate(MAX_PUBLISHED);
    order.sort_unstable();
    (
        order.into_iter().map(|i| &findings[i]).collect(),
        findings.len() - MAX_PUBLISHED,
    )
}

fn invalid_params(id: lsp_server::RequestId, e: &serde_json::Error) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string())
}

/// Sets a document's whole text, or marks it too large to keep.
fn set_text(doc: &mut Doc, text: String) {
    if text.len() as u64 > MAX_FILE_BYTES {
        doc.text = String::new();
        doc.too_large = true;
    } else {
        doc.text = text;
        doc.too_large = false;
    }
}
