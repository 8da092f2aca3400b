//! The HTTP side: hyper's HTTP/1.1 server on the guard's socket, one upstream connection per
//! forwarded request (hyper's client), hijacked streams (`101 UPGRADED`) copied both ways.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, ExecConfig};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{UnixListener, UnixStream};

use super::route::{self, Action, Refusal, Route};
use super::{MAX_EXECS, MAX_OWNED, State};
use crate::dockerfile::semantics::is_root_user;
use crate::sandbox::verify::{self, CheckStatus};

type Body = BoxBody<Bytes, hyper::Error>;
type UpBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The most bytes of a daemon answer the guard reads itself (create, exec, list).
const MAX_ANSWER: usize = 16 * 1024 * 1024;
/// How long dialling the daemon may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `stop` resolves, then kills and removes the guard's containers.
pub(super) async fn serve(
    state: Arc<State>,
    listener: UnixListener,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(
        state.options.limits.max_connections,
    ));
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut stop => break,
        };
        let Ok((stream, _)) = accepted else {
            // EMFILE and friends: let the others finish, then try again
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Over the limit: the connection is closed unanswered.
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            connection(state, stream).await;
            drop(permit);
        });
    }
    cleanup(&state).await;
}

async fn connection(state: Arc<State>, stream: UnixStream) {
    let limits = state.options.limits.clone();
    let service = hyper::service::service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(state, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        // a client that shuts its write side after the request still reads the answer
        .half_close(true)
        .max_buf_size(limits.max_head.max(8192))
        .max_headers(limits.max_headers);
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

/// Kills and removes every container the guard created.
async fn cleanup(state: &State) {
    let ids: Vec<String> = state
        .owned
        .lock()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for id in ids {
        kill_and_remove(state, &id).await;
    }
}

async fn kill_and_remove(state: &State, id: &str) {
    let opts = bollard::query_parameters::RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        state.docker.remove_container(id, Some(opts)),
    )
    .await;
    state.forget(id);
}

/// A Docker-shaped error: `{"message": "sandlint guard: …"}`.
pub(super) fn error(status: u16, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "message": format!("sandlint guard: {message}") });
    let mut resp = Response::new(full(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

fn up_full(b: impl Into<Bytes>) -> UpBody {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let planned = match plan(&state, &req).await {
        Ok(p) => p,
        Err(refusal) => {
            // Read what the client sends (bounded) so it sees the answer, not a reset.
            let _ = read_body(&state, req).await;
            return error(refusal.status, &refusal.message);
        }
    };
    match dispatch(&state, req, planned).await {
        Ok(r) => r,
        Err(refusal) => error(refusal.status, &refusal.message),
    }
}

/// A routed request: where it goes, and the full id of the guard's container it names.
struct Planned {
    routed: Route,
    version: String,
    query: String,
    container: Option<String>,
}

/// Routes a request and resolves the container it names, before its body is read.
async fn plan(state: &State, req: &Request<Incoming>) -> Result<Planned, Refusal> {
    let o = &state.options;
    let path = req.uri().path();
    let routed = route::route(req.method(), path, o.allow_pull, o.allow_build)?;
    let (version, _) = route::split_version(path).unwrap_or(("", ""));
    let container = match &routed {
        Route::Container { id, .. } => Some(resolve(state, id).await?),
        Route::Exec { id, .. } => {
            let known = state
                .execs
                .lock()
                .map(|e| e.contains_key(id))
                .unwrap_or(false);
            if !known {
                return Err(Refusal::forbidden(format!(
                    "exec instance `{id}` was not created by this guard"
                )));
            }
            None
        }
        _ => None,
    };
    Ok(Planned {
        version: version.to_string(),
        query: req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default(),
        routed,
        container,
    })
}

async fn dispatch(
    state: &Arc<State>,
    req: Request<Incoming>,
    planned: Planned,
) -> Result<Response<Body>, Refusal> {
    let short = Some(state.options.limits.answer_timeout);
    let Planned {
        routed,
        version,
        query,
        container: full,
    } = planned;
    let path = req.uri().path().to_string();
    match routed {
        Route::Plain => forward(state, req, format!("{path}{query}"), None, short).await,
        Route::Pull | Route::Build => {
            forward(state, req, format!("{path}{query}"), None, None).await
        }
        Route::List => list(state, req, &version).await,
        Route::Create => create(state, req, &format!("{path}{query}")).await,
        Route::Container { action, .. } => {
            let full = full.unwrap_or_default();
            let target = format!("{version}/containers/{full}{}{query}", action.segment());
            container(state, req, &full, action, target).await
        }
        Route::Exec { id, action } => {
            let target = format!("{version}/exec/{id}{}{query}", action.segment());
            let timeout = (action != route::ExecAction::Start)
                .then_some(short)
                .flatten();
            forward(state, req, target, None, timeout).await
        }
    }
}

/// The full id of the guard's container `reference` names (a name, an id or an id prefix).
async fn resolve(state: &State, reference: &str) -> Result<String, Refusal> {
    if let Some(id) = state.owned_by_prefix(reference) {
        return Ok(id);
    }
    let inspect = tokio::time::timeout(
        state.options.limits.answer_timeout,
        state.docker.inspect_container(reference, None),
    )
    .await
    .map_err(|_| Refusal::forbidden("the daemon did not answer"))?;
    let id = match inspect {
        Ok(c) => c.id.unwrap_or_default(),
        Err(e) if is_not_found(&e) => {
            return Err(Refusal::not_found(format!(
                "No such container: {reference}"
            )));
        }
        Err(e) => return Err(Refusal::forbidden(format!("the daemon: {e}"))),
    };
    if state.owned_profile(&id).is_none() {
        return Err(Refusal::forbidden(format!(
            "container `{reference}` was not created by this guard; only its own containers can be used through it"
        )));
    }
    Ok(id)
}

fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

async fn container(
    state: &Arc<State>,
    req: Request<Incoming>,
    id: &str,
    action: Action,
    target: String,
) -> Result<Response<Body>, Refusal> {
    let limits = &state.options.limits;
    let timeout = (!action.streams()).then_some(limits.answer_timeout);
    match action {
        Action::ExecCreate => exec_create(state, req, id, target).await,
        Action::Start => {
            let resp = forward(state, req, target, None, timeout).await?;
            if resp.status().is_success() {
                verify_started(state, id).await?;
            }
            Ok(resp)
        }
        Action::Remove => {
            let resp = forward(state, req, target, None, timeout).await?;
            if resp.status().is_success() || resp.status() == StatusCode::NOT_FOUND {
                state.forget(id);
            }
            Ok(resp)
        }
        _ => forward(state, req, target, None, timeout).await,
    }
}

/// Reads a judged request body: at most `max_body` bytes within `body_timeout`.
async fn read_body(state: &State, req: Request<Incoming>) -> Result<Bytes, Refusal> {
    let limits = &state.options.limits;
    let read = Limited::new(req.into_body(), limits.max_body).collect();
    match tokio::time::timeout(limits.body_timeout, read).await {
        Err(_) => Err(Refusal {
            status: 408,
            message: "the request body did not arrive in time".to_string(),
        }),
        Ok(Err(_)) => Err(Refusal {
            status: 413,
            message: format!(
                "the request body is malformed or larger than {} bytes",
                limits.max_body
            ),
        }),
        Ok(Ok(b)) => Ok(b.to_bytes()),
    }
}

/// Reads a daemon answer the guard looks into (bounded).
async fn read_answer(
    resp: Response<Body>,
) -> Result<(hyper::http::response::Parts, Bytes), Refusal> {
    let (parts, body) = resp.into_parts();
    let bytes = Limited::new(body, MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| Refusal::forbidden(format!("reading the daemon's answer: {e}")))?
        .to_bytes();
    Ok((parts, bytes))
}

async fn create(
    state: &Arc<State>,
    req: Request<Incoming>,
    target: &str,
) -> Result<Response<Body>, Refusal> {
    let head = req.headers().clone();
    let bytes = read_body(state, req).await?;
    let body: ContainerCreateBody = serde_json::from_slice(&bytes)
        .map_err(|e| Refusal::bad_request(format!("malformed create body: {e}")))?;
    let image = body.image.clone().unwrap_or_default();
    let image_user = image_user(state, &image).await?;
    prune(state).await?;
    let judged = super::harden::judge(body, &image_user, &state.options.policy, &state.labels())
        .map_err(|reasons| {
            Refusal::forbidden(format!(
                "refused to create the container:\n  - {}",
                reasons.join("\n  - ")
            ))
        })?;
    let json = serde_json::to_vec(&judged.body)
        .map_err(|e| Refusal::forbidden(format!("cannot write the create body: {e}")))?;
    let resp = send(state, Method::POST, target, &head, up_full(json), None).await?;
    let resp = resp.map(|b| b.boxed());
    if resp.status() != StatusCode::CREATED {
        return Ok(resp);
    }
    let (parts, bytes) = read_answer(resp).await?;
    let id = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("Id").and_then(|i| i.as_str()).map(str::to_string))
        .filter(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| Refusal::forbidden("the daemon's create answer names no container id"))?;
    if let Ok(mut owned) = state.owned.lock() {
        owned.insert(id.clone(), judged.profile);
    }
    // What the daemon made of the request, before anything runs in it.
    verify_container(state, &id, false).await?;
    Ok(Response::from_parts(parts, full(bytes)))
}

/// The image's `USER` (empty: none). A missing image is Docker's own 404, so the client pulls
/// it (through the guard, when pulling is enabled).
async fn image_user(state: &State, image: &str) -> Result<String, Refusal> {
    if image.is_empty() {
        return Err(Refusal::bad_request("the request names no image"));
    }
    let inspect = tokio::time::timeout(
        state.options.limits.answer_timeout,
        state.docker.inspect_image(image),
    )
    .await
    .map_err(|_| Refusal::forbidden("the daemon did not answer"))?;
    match inspect {
        Ok(i) => Ok(i.config.and_then(|c| c.user).unwrap_or_default()),
        Err(e) if is_not_found(&e) => Err(Refusal {
            status: 404,
            message: format!("No such image: {image}"),
        }),
        Err(e) => Err(Refusal::forbidden(format!("inspecting the image: {e}"))),
    }
}

/// Makes room in the guard's memory: forgets containers the daemon no longer has.
async fn prune(state: &State) -> Result<(), Refusal> {
    let full = state
        .owned
        .lock()
        .map(|o| o.len() >= MAX_OWNED)
        .unwrap_or(true);
    if !full {
        return Ok(());
    }
    let mut filters = std::collections::HashMap::new();
    filters.insert(
        "label",
        vec![format!("{}={}", super::LABEL_GUARD, state.instance)],
    );
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let live: Vec<String> = match state.docker.list_containers(Some(opts)).await {
        Ok(l) => l.into_iter().filter_map(|c| c.id).collect(),
        Err(e) => return Err(Refusal::forbidden(format!("listing containers: {e}"))),
    };
    if let Ok(mut o) = state.owned.lock() {
        o.retain(|id, _| live.contains(id));
        if o.len() >= MAX_OWNED {
            return Err(Refusal::forbidden(format!(
                "the guard already has {MAX_OWNED} containers; remove some"
            )));
        }
    }
    if let Ok(mut e) = state.execs.lock() {
        e.retain(|_, c| live.contains(c));
    }
    Ok(())
}

/// After start: the daemon's view (and the kernel's, when the daemon is on this host) against
/// the profile; a container gone already (a fast `--rm` run) was verified when it was created.
async fn verify_started(state: &State, id: &str) -> Result<(), Refusal> {
    verify_container(state, id, true).await
}

async fn verify_container(state: &State, id: &str, started: bool) -> Result<(), Refusal> {
    let Some(profile) = state.owned_profile(id) else {
        return Ok(());
    };
    let inspect = tokio::time::timeout(
        state.options.limits.answer_timeout,
        state.docker.inspect_container(id, None),
    )
    .await;
    let inspect = match inspect {
        Ok(Ok(i)) => i,
        Ok(Err(e)) if started && is_not_found(&e) => {
            state.forget(id);
            return Ok(());
        }
        Ok(Err(e)) => return Err(failed(state, id, format!("cannot inspect it: {e}")).await),
        Err(_) => return Err(failed(state, id, "the daemon did not answer".to_string()).await),
    };
    let mut seen = inspect.clone();
    // Anonymous volumes (the image's VOLUMEs, `-v /path`) are daemon storage, not host paths.
    if let Some(m) = seen.mounts.as_mut() {
        m.retain(|m| m.typ.as_deref() != Some("volume"));
    }
    let cgroup = crate::sandbox::runner::read_cgroup(id);
    let mut checks = verify::check_container(&profile, &seen, &cgroup);
    let running = inspect.state.as_ref().and_then(|s| s.running) == Some(true);
    if started && running {
        let pid = inspect.state.as_ref().and_then(|s| s.pid).unwrap_or(0);
        let kernel = crate::sandbox::runner::kernel_uids(id, pid);
        if kernel.is_some() {
            let evidence = verify::uid_evidence(kernel, None, "");
            checks.push(verify::uid_check(evidence.as_ref(), false));
        }
    }
    let bad: Vec<String> = (checks.iter())
        .filter(|c| c.status == CheckStatus::Failed)
        .map(|c| {
            format!(
                "{} (expected {}, daemon reports {})",
                c.name, c.expected, c.actual
            )
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(failed(state, id, bad.join("; ")).await)
    }
}

async fn failed(state: &State, id: &str, why: String) -> Refusal {
    kill_and_remove(state, id).await;
    Refusal::forbidden(format!(
        "the container failed verification and was killed and removed: {}",
        crate::escape::line(&why)
    ))
}

async fn exec_create(
    state: &Arc<State>,
    req: Request<Incoming>,
    container: &str,
    target: String,
) -> Result<Response<Body>, Refusal> {
    let head = req.headers().clone();
    let bytes = read_body(state, req).await?;
    let config: ExecConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Refusal::bad_request(format!("malformed exec body: {e}")))?;
    if config.privileged == Some(true) {
        return Err(Refusal::forbidden("privileged exec is refused"));
    }
    if let Some(user) = &config.user
        && is_root_user(user) == Some(true)
    {
        return Err(Refusal::forbidden(format!(
            "exec as `{}` is refused: root is not allowed in a guarded container",
            crate::escape::line(user)
        )));
    }
    let full_execs = state
        .execs
        .lock()
        .map(|e| e.len() >= MAX_EXECS)
        .unwrap_or(true);
    if full_execs {
        return Err(Refusal::forbidden("too many exec instances"));
    }
    let json = serde_json::to_vec(&config)
        .map_err(|e| Refusal::forbidden(format!("cannot write the exec body: {e}")))?;
    let timeout = Some(state.options.limits.answer_timeout);
    let resp = send(state, Method::POST, &target, &head, up_full(json), timeout).await?;
    let resp = resp.map(|b| b.boxed());
    if resp.status() != StatusCode::CREATED {
        return Ok(resp);
    }
    let (parts, bytes) = read_answer(resp).await?;
    let id = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("Id").and_then(|i| i.as_str()).map(str::to_string))
        .filter(|id| route::valid_ref(id))
        .ok_or_else(|| Refusal::forbidden("the daemon's exec answer names no id"))?;
    if let Ok(mut e) = state.execs.lock() {
        e.insert(id, container.to_string());
    }
    Ok(Response::from_parts(parts, full(bytes)))
}

/// `containers/json`: the daemon asked for the guard's label, the answer cut to the containers
/// in the guard's memory. The client's own filters are kept (and the label added to them).
async fn list(
    state: &Arc<State>,
    req: Request<Incoming>,
    version: &str,
) -> Result<Response<Body>, Refusal> {
    let label = format!("{}={}", super::LABEL_GUARD, state.instance);
    let mut filters: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    let mut rest = Vec::new();
    for pair in req.uri().query().unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "filters" {
            let text =
                percent_decode(v).ok_or_else(|| Refusal::bad_request("malformed filters"))?;
            filters = serde_json::from_str(&text)
                .map_err(|e| Refusal::bad_request(format!("malformed filters: {e}")))?;
        } else if matches!(k, "all" | "limit" | "size")
            && v.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            rest.push(format!("{k}={v}"));
        }
    }
    let labels = filters
        .entry("label")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    match labels {
        serde_json::Value::Array(a) => a.push(serde_json::Value::String(label)),
        serde_json::Value::Object(m) => {
            m.insert(label, serde_json::Value::Bool(true));
        }
        _ => return Err(Refusal::bad_request("malformed label filter")),
    }
    let encoded = percent_encode(&serde_json::Value::Object(filters).to_string());
    rest.push(format!("filters={encoded}"));
    let target = format!("{version}/containers/json?{}", rest.join("&"));
    let resp = forward(
        state,
        req,
        target,
        None,
        Some(state.options.limits.answer_timeout),
    )
    .await?;
    if !resp.status().is_success() {
        return Ok(resp);
    }
    let (mut parts, bytes) = read_answer(resp).await?;
    let list: Vec<serde_json::Value> = serde_json::from_slice(&bytes)
        .map_err(|e| Refusal::forbidden(format!("the daemon's list: {e}")))?;
    let owned: Vec<serde_json::Value> = list
        .into_iter()
        .filter(|c| {
            c.get("Id")
                .and_then(|i| i.as_str())
                .is_some_and(|id| state.owned_profile(id).is_some())
        })
        .collect();
    let out = serde_json::to_vec(&owned).unwrap_or_else(|_| b"[]".to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::TRANSFER_ENCODING);
    Ok(Response::from_parts(parts, full(out)))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Forwards `req` to `target` (path and query) on the daemon, its body streamed (at most
/// `max_stream_body` bytes) unless `body` replaces it. A `101` answer is hijacked: the two
/// upgraded connections are copied both ways until both sides close.
async fn forward(
    state: &Arc<State>,
    mut req: Request<Incoming>,
    target: String,
    body: Option<UpBody>,
    timeout: Option<Duration>,
) -> Result<Response<Body>, Refusal> {
    let wants_upgrade = req.headers().contains_key(header::UPGRADE);
    let client_upgrade = wants_upgrade.then(|| hyper::upgrade::on(&mut req));
    let method = req.method().clone();
    let head = req.headers().clone();
    let limit = usize::try_from(state.options.limits.max_stream_body).unwrap_or(usize::MAX);
    let body = body.unwrap_or_else(|| Limited::new(req.into_body(), limit).boxed());
    let mut resp = send(state, method, &target, &head, body, timeout).await?;
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let Some(client_upgrade) = client_upgrade else {
            return Err(Refusal::forbidden("the daemon switched protocols unasked"));
        };
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            let (Ok(client), Ok(upstream)) = tokio::join!(client_upgrade, upstream_upgrade) else {
                return;
            };
            let mut client = TokioIo::new(client);
            let mut upstream = TokioIo::new(upstream);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        });
        let (parts, _) = resp.into_parts();
        return Ok(Response::from_parts(
            parts,
            Empty::new().map_err(|never| match never {}).boxed(),
        ));
    }
    Ok(resp.map(|b| b.boxed()))
}

/// One request to the daemon on a connection of its own.
async fn send(
    state: &State,
    method: Method,
    target: &str,
    head: &hyper::HeaderMap,
    body: UpBody,
    timeout: Option<Duration>,
) -> Result<Response<Incoming>, Refusal> {
    let unreachable = |e: String| Refusal {
        status: 502,
        message: format!("cannot reach the Docker daemon: {e}"),
    };
    let mut builder = Request::builder().method(method).uri(target);
    for (k, v) in head {
        let hop = [
            header::HOST,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::EXPECT,
            header::TE,
            header::TRAILER,
        ];
        if !hop.contains(k) {
            builder = builder.header(k, v);
        }
    }
    let req = builder
        .header(header::HOST, "docker")
        .body(body)
        .map_err(|e| Refusal::bad_request(format!("malformed request: {e}")))?;
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        UnixStream::connect(&state.options.upstream),
    )
    .await
    .map_err(|_| unreachable("no answer within 10s".to_string()))?
    .map_err(|e| unreachable(e.to_string()))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let sent = sender.send_request(req);
    let resp = match timeout {
        Some(t) => tokio::time::timeout(t, sent).await.map_err(|_| Refusal {
            status: 504,
            message: format!("the daemon did not answer within {}s", t.as_secs()),
        })?,
        None => sent.await,
    };
    resp.map_err(|e| unreachable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        let s = r#"{"label":["a=b"],"status":["running"]}"#;
        assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }
}
