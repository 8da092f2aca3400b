//! Routing: what a request asks for, from its method and path alone (pure). Everything not
//! listed here is refused; the reason names what was asked.

use hyper::Method;

/// The most bytes of a path the guard reads.
pub const MAX_PATH: usize = 2048;

/// What a request is, for the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `_ping`, `version`, `info`, image list and inspect: forwarded as they are.
    Plain,
    /// `POST /images/create` (pull), when enabled.
    Pull,
    /// `POST /build` and `POST /session` (BuildKit), when enabled.
    Build,
    /// `GET /containers/json`: answered with the guard's own containers only.
    List,
    /// `POST /containers/create`: judged, hardened, then forwarded.
    Create,
    /// An action on a container (`id` as the client wrote it: a name or an id prefix).
    Container { id: String, action: Action },
    /// An action on an exec instance.
    Exec { id: String, action: ExecAction },
}

/// What is done to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Inspect,
    Start,
    Wait,
    Logs,
    Attach,
    Stop,
    Kill,
    Remove,
    Resize,
    /// `POST /containers/{id}/exec`: judged (no privileged exec, no root).
    ExecCreate,
    /// `HEAD`/`GET`/`PUT /containers/{id}/archive`.
    Archive,
}

impl Action {
    /// The path segment after `/containers/{id}` (empty for inspect-by-delete).
    pub fn segment(self) -> &'static str {
        match self {
            Action::Inspect => "/json",
            Action::Start => "/start",
            Action::Wait => "/wait",
            Action::Logs => "/logs",
            Action::Attach => "/attach",
            Action::Stop => "/stop",
            Action::Kill => "/kill",
            Action::Remove => "",
            Action::Resize => "/resize",
            Action::ExecCreate => "/exec",
            Action::Archive => "/archive",
        }
    }

    /// Whether the answer may stream for as long as the container runs (no response timeout).
    pub fn streams(self) -> bool {
        matches!(
            self,
            Action::Wait | Action::Logs | Action::Attach | Action::Archive
        )
    }
}

/// What is done to an exec instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecAction {
    Start,
    Resize,
    Inspect,
}

impl ExecAction {
    pub fn segment(self) -> &'static str {
        match self {
            ExecAction::Start => "/start",
            ExecAction::Resize => "/resize",
            ExecAction::Inspect => "/json",
        }
    }
}

/// Why a request is refused (the message after `sandlint guard: `) and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Refusal {
            status: 403,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Refusal {
            status: 404,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Refusal {
            status: 400,
            message: message.into(),
        }
    }
}

/// The path split into its optional version prefix (`/v1.47`) and the rest (`/containers/json`).
/// `None` when the path is not one the guard reads: too long, not absolute, with empty, `.` or
/// `..` segments, or characters outside the ones Docker's names, ids and image references use.
pub fn split_version(path: &str) -> Option<(&str, &str)> {
    if path.len() > MAX_PATH || !path.starts_with('/') {
        return None;
    }
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"/_.-:@".contains(&b);
    if !path.bytes().all(ok) {
        return None;
    }
    let segments = path[1..].split('/');
    for s in segments {
        if s.is_empty() || s == "." || s == ".." {
            return None;
        }
    }
    if let Some(rest) = path.strip_prefix("/v")
        && let Some(slash) = rest.find('/')
    {
        let v = &rest[..slash];
        let numeric = v.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.len() <= 3
                && b.len() <= 3
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
        if numeric {
            return Some((&path[..slash + 2], &rest[slash..]));
        }
    }
    Some(("", path))
}

/// A container name or id as a path segment: `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 128 bytes.
pub fn valid_ref(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Routes a request. `allow_pull` and `allow_build` enable those endpoints.
pub fn route(
    method: &Method,
    path: &str,
    allow_pull: bool,
    allow_build: bool,
) -> Result<Route, Refusal> {
    let Some((_, rest)) = split_version(path) else {
        return Err(Refusal::bad_request("malformed request path"));
    };
    let parts: Vec<&str> = rest[1..].split('/').collect();
    let m = method;
    let get = m == Method::GET || m == Method::HEAD;
    match parts.as_slice() {
        ["_ping"] if get => Ok(Route::Plain),
        ["version" | "info"] if get => Ok(Route::Plain),
        ["images", "json"] if get => Ok(Route::Plain),
        ["images", "create"] if m == Method::POST => {
            if allow_pull {
                Ok(Route::Pull)
            } else {
                Err(Refusal::forbidden(
                    "pulling images is disabled (start the guard with --allow-pull, or load the image on the host)",
                ))
            }
        }
        ["images", .., "json"] if get && parts.len() > 2 => Ok(Route::Plain),
        ["build" | "session"] if m == Method::POST => {
            if allow_build {
                Ok(Route::Build)
            } else {
                Err(Refusal::forbidden(
                    "building images is disabled (start the guard with --allow-build, or build on the host)",
                ))
            }
        }
        ["containers", "json"] if get => Ok(Route::List),
        ["containers", "create"] if m == Method::POST => Ok(Route::Create),
        ["containers", id, rest @ ..] => container(m, id, rest),
        ["exec", id, action] => {
            let action = match (m, *action) {
                (&Method::POST, "start") => ExecAction::Start,
                (&Method::POST, "resize") => ExecAction::Resize,
                (&Method::GET, "json") => ExecAction::Inspect,
                _ => return Err(refused_endpoint(m, rest)),
            };
            if !valid_ref(id) {
                return Err(Refusal::not_found("no such exec instance"));
            }
            Ok(Route::Exec {
                id: id.to_string(),
                action,
            })
        }
        _ => Err(refused_endpoint(m, rest)),
    }
}

fn container(m: &Method, id: &str, rest: &[&str]) -> Result<Route, Refusal> {
    let action = match (m, rest) {
        (&Method::GET, ["json"]) => Action::Inspect,
        (&Method::POST, ["start"]) => Action::Start,
        (&Method::POST, ["wait"]) => Action::Wait,
        (&Method::GET, ["logs"]) => Action::Logs,
        (&Method::POST, ["attach"]) => Action::Attach,
        (&Method::POST, ["stop"]) => Action::Stop,
        (&Method::POST, ["kill"]) => Action::Kill,
        (&Method::DELETE, []) => Action::Remove,
        (&Method::POST, ["resize"]) => Action::Resize,
        (&Method::POST, ["exec"]) => Action::ExecCreate,
        (&Method::HEAD | &Method::GET | &Method::PUT, ["archive"]) => Action::Archive,
        _ => {
            let what = if rest.is_empty() {
                String::new()
            } else {
                format!("/{}", rest.join("/"))
            };
            return Err(Refusal::forbidden(format!(
                "{m} /containers/{{id}}{what} is not allowed through the guard (it forwards create, start, wait, logs, attach, inspect, stop, kill, remove, resize, exec and archive)"
            )));
        }
    };
    if !valid_ref(id) {
        return Err(Refusal::not_found("no such container"));
    }
    Ok(Route::Container {
        id: id.to_string(),
        action,
    })
}

/// The refusal of an endpoint the guard does not forward, naming its family.
fn refused_endpoint(m: &Method, rest: &str) -> Refusal {
    let first = rest[1..].split('/').next().unwrap_or_default();
    let why = match first {
        "networks" => {
            "networks cannot be created, changed or listed through the guard: its containers get `network_mode: none` (or the guard's --network)"
        }
        "volumes" => {
            "volumes cannot be created, removed or listed through the guard (mount a directory under an --allow-bind-root)"
        }
        "swarm" | "nodes" | "services" | "tasks" | "secrets" | "configs" => {
            "swarm endpoints are not available through the guard"
        }
        "plugins" => "plugins cannot be installed or changed through the guard",
        "events" => "daemon events are not available through the guard (they show every container)",
        "system" => "system endpoints (df, prune) are not available through the guard",
        "images" => "only image list and inspect are available through the guard",
        "containers" => "that container endpoint is not available through the guard",
        "exec" => "that exec endpoint is not available through the guard",
        "auth" | "distribution" | "grpc" | "commit" => {
            "that endpoint is not available through the guard"
        }
        _ => "unknown endpoint",
    };
    let shown: String = rest.chars().take(120).collect();
    Refusal::forbidden(format!("{m} {shown} refused: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(m: Method, p: &str) -> Result<Route, Refusal> {
        route(&m, p, false, false)
    }

    #[test]
    fn versions_are_optional() {
        assert_eq!(split_version("/v1.47/info"), Some(("/v1.47", "/info")));
        assert_eq!(split_version("/info"), Some(("", "/info")));
        assert_eq!(split_version("/vx.1/info"), Some(("", "/vx.1/info")));
        assert_eq!(split_version("/v1.47//info"), None);
        assert_eq!(split_version("/v1.47/../info"), None);
        assert_eq!(split_version("/info%2f"), None);
        assert_eq!(split_version("info"), None);
    }

    #[test]
    fn allowed_endpoints() {
        assert_eq!(r(Method::HEAD, "/_ping"), Ok(Route::Plain));
        assert_eq!(r(Method::GET, "/v1.47/version"), Ok(Route::Plain));
        assert_eq!(
            r(
                Method::GET,
                "/v1.47/images/docker.io/library/busybox:1/json"
            ),
            Ok(Route::Plain)
        );
        assert_eq!(
            r(Method::POST, "/v1.47/containers/create"),
            Ok(Route::Create)
        );
        assert_eq!(r(Method::GET, "/containers/json"), Ok(Route::List));
        assert_eq!(
            r(Method::POST, "/v1.47/containers/abc/attach"),
            Ok(Route::Container {
                id: "abc".into(),
                action: Action::Attach
            })
        );
        assert_eq!(
            r(Method::DELETE, "/containers/abc"),
            Ok(Route::Container {
                id: "abc".into(),
                action: Action::Remove
            })
        );
        assert_eq!(
            r(Method::POST, "/exec/0123/start"),
            Ok(Route::Exec {
                id: "0123".into(),
                action: ExecAction::Start
            })
        );
    }

    #[test]
    fn refused_endpoints_say_why() {
        let msg = |m: Method, p: &str| r(m, p).err().map(|e| (e.status, e.message));
        let (status, m) = msg(Method::POST, "/v1.47/networks/create").unwrap_or_default();
        assert_eq!(status, 403);
        assert!(m.contains("networks cannot be created"), "{m}");
        for (method, path) in [
            (Method::POST, "/swarm/init"),
            (Method::POST, "/plugins/pull"),
            (Method::POST, "/containers/prune"),
            (Method::GET, "/events"),
            (Method::GET, "/system/df"),
            (Method::POST, "/images/create"),
            (Method::POST, "/build"),
            (Method::POST, "/containers/abc/update"),
            (Method::POST, "/containers/abc/rename"),
            (Method::GET, "/containers/abc/export"),
            (Method::POST, "/volumes/create"),
            (Method::DELETE, "/images/busybox"),
        ] {
            assert_eq!(
                msg(method.clone(), path).map(|m| m.0),
                Some(403),
                "{method} {path}"
            );
        }
        assert_eq!(
            route(&Method::POST, "/images/create", true, false),
            Ok(Route::Pull)
        );
        assert_eq!(msg(Method::GET, "/a//b").map(|m| m.0), Some(400));
    }
}
