"""Run untrusted code in a hardened, verified container from Python.

A thin, typed wrapper over the ``sandlint run --json`` command of the ``sandlint`` binary that
this wheel installs: every call plans a container (non-root, read-only root, no capabilities,
no-new-privileges, no network, memory/CPU/pids limits), checks the plan with sandlint's rules
before creating it, inspects it after it starts, and removes it on every path. Nothing here
relaxes those protections: options only tighten them or are passed to ``sandlint run``, which
refuses what its rules refuse (``SandboxRefused``).

    from sandlint import Sandbox

    sb = Sandbox(image="python:3.13-slim", memory="256m")
    result = sb.execute_code("print(6 * 7)", timeout=10)
    result["success"], result["output"]    # True, "42\\n"

A session keeps one verified container across calls (``sandlint session``): files in
``/workspace`` and ``/tmp`` persist between ``exec`` calls, every call re-verifies the container
first, and the container is removed when the ``with`` block ends, even on an exception (and, should
this process be killed, within a second by its watchdog, which is bound to this process):

    with Sandbox(image="python:3.13-slim") as sb:
        sb.write_file("main.py", "print('hi')")
        sb.exec(["python3", "main.py"])["output"]    # "hi\\n"
        sb.read_file("main.py")                      # b"print('hi')"
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["Sandbox", "SandboxError", "SandboxRefused", "SessionRefused", "binary"]

#: Code longer than this is passed as a read-only mounted file, not as an argument (argv limits).
_INLINE_CODE_LIMIT = 32 * 1024

#: Extra seconds the Python side waits beyond the sandbox's own timeout (create, verify, remove).
_PROCESS_MARGIN = 60.0

_EXTENSIONS = {"python": ".py", "node": ".js", "sh": ".sh"}


class SandboxError(RuntimeError):
    """sandlint could not run the sandbox (daemon unreachable, image missing, bad option)."""

    def __init__(self, message: str, *, code: str = "", help: str = "", result: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.code = code
        self.help = help
        self.result = result or {}


class SandboxRefused(SandboxError):
    """sandlint's rules refused the planned container; ``findings`` names the rules."""

    def __init__(self, message: str, *, findings: Sequence[str], **kwargs: Any):
        super().__init__(message, **kwargs)
        self.findings = list(findings)

    @property
    def rules(self) -> List[str]:
        """The names of the rules that refused (``host-network-mode``, ...)."""
        out = []
        for finding in self.findings:
            # "error host-network-mode: service `sandbox` uses ..."
            head = finding.split(":", 1)[0].split()
            if len(head) == 2:
                out.append(head[1])
        return out

    @property
    def rule(self) -> str:
        """The first rule that refused (``""`` if none could be read)."""
        rules = self.rules
        return rules[0] if rules else ""


class SessionRefused(SandboxError):
    """A session call was refused: its container is no longer the one sandlint started and
    verified (``code`` ``sandlint::sandbox::session_tampered``), the session is gone
    (``...::session_not_found``), or a file path left ``/workspace`` (``...::path_refused``)."""


def binary() -> str:
    """The ``sandlint`` executable: ``$SANDLINT_BINARY``, the one this wheel installed, or PATH."""
    explicit = os.environ.get("SANDLINT_BINARY")
    if explicit:
        return explicit
    name = "sandlint.exe" if sys.platform == "win32" else "sandlint"
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scheme_dir, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("sandlint")
    if found is None:
        raise SandboxError("the sandlint executable was not found (pip install sandlint, or set SANDLINT_BINARY)")
    return found


class Sandbox:
    """Settings for sandboxed runs; each call runs one fresh, verified container.

    ``network`` is ``False`` (no network, the default) or a Docker network mode, which the rules
    judge (``"bridge"`` is refused unless ``allow`` names ``network-not-isolated``).
    ``allow`` accepts the risk of named rules, as ``sandlint run --allow`` does.
    """

    def __init__(
        self,
        image: Optional[str] = None,
        *,
        memory: str = "512m",
        cpus: Union[float, str] = 1,
        pids: int = 256,
        timeout: Union[float, str] = 30,
        network: Union[bool, str] = False,
        allow_hosts: Optional[Sequence[str]] = None,
        user: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        workspace: Optional[str] = None,
        output_limit: Optional[str] = None,
        runtime: Optional[str] = None,
        allow: Sequence[str] = (),
        executable: Optional[str] = None,
    ) -> None:
        if isinstance(allow_hosts, str):
            raise ValueError("allow_hosts is a list of host names, e.g. ['pypi.org', '*.pythonhosted.org']")
        # egress allowlist: the sandbox reaches these hosts only, through sandlint's filtering proxy
        self.allow_hosts = list(allow_hosts or [])
        if self.allow_hosts and network:
            raise ValueError("allow_hosts and network cannot be combined: the proxy is the sandbox's only network")
        if network is True:
            raise ValueError("network=True is ambiguous: pass a Docker network mode (e.g. 'bridge') or False")
        self.image = image
        self.memory = memory
        self.cpus = cpus
        self.pids = pids
        self.timeout = timeout
        self.network = network or None
        self.user = user
        self.env = dict(env or {})
        self.workspace = workspace
        self.output_limit = output_limit
        self.runtime = runtime
        self.allow = list(allow)
        self.executable = executable

    # -- the two calls ------------------------------------------------------------------------

    def execute_code(self, code: str, timeout: Optional[Union[float, str]] = None, lang: str = "python") -> Dict[str, Any]:
        """Run ``code`` with the interpreter of ``lang`` (``python``, ``node`` or ``sh``).

        Returns ``{"success", "output", "error", "exit_code", "timed_out", "oom_killed",
        "truncated", "verification", "result"}``: ``success`` is exit status 0 within the
        timeout; ``output``/``error`` are the command's stdout/stderr (capped); ``result`` is
        sandlint's whole JSON answer. Raises ``SandboxRefused`` when the rules refuse the
        planned container and ``SandboxError`` when sandlint cannot run it.
        """
        if lang not in _EXTENSIONS:
            raise ValueError(f"lang must be one of {sorted(_EXTENSIONS)}, not {lang!r}")
        if len(code.encode("utf-8")) <= _INLINE_CODE_LIMIT:
            return self._run(["--lang", lang, "--code", code], [], timeout)
        with tempfile.TemporaryDirectory(prefix="sandlint-code-") as tmp:
            path = os.path.join(tmp, "main" + _EXTENSIONS[lang])
            with open(path, "w", encoding="utf-8") as f:
                f.write(code)
            os.chmod(tmp, 0o755)
            os.chmod(path, 0o644)
            return self._run(["--lang", lang, "--file", path], [], timeout)

    def run_command(self, argv: Sequence[str], timeout: Optional[Union[float, str]] = None) -> Dict[str, Any]:
        """Run ``argv`` (no shell) in the sandbox; the same answer as ``execute_code``."""
        if not argv:
            raise ValueError("argv is empty")
        return self._run([], list(argv), timeout)

    # -- sessions -----------------------------------------------------------------------------

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def session(self) -> Optional[str]:
        """The id of the running session (``None`` outside ``with`` / ``start``)."""
        return getattr(self, "_session", None)

    def start(self, ttl: Union[float, str] = "30m") -> str:
        """Start a session (``sandlint session start``); returns its id. ``with Sandbox(...)``
        calls this. The session is removed after ``ttl`` whatever happens."""
        if self.session:
            raise SandboxError(f"a session is already running ({self.session})")
        opts = self._options(None)
        cmd = [self.executable or binary(), "session", "start", *opts, "--ttl", _duration(ttl), "--bound-to", str(os.getpid())]
        info = self._call(cmd, 300.0)
        self._session = str(info["id"])
        self.session_info: Dict[str, Any] = info
        return self._session

    def stop(self) -> None:
        """Remove the session (its container and ``/workspace``); a no-op without one."""
        sid = self.session
        if not sid:
            return
        self._session = None
        try:
            subprocess.run(
                [self.executable or binary(), "session", "stop", sid, "--json"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired:
            # the session's watchdog removes it: it is bound to this process and to its TTL
            pass

    def _require_session(self) -> str:
        sid = self.session
        if not sid:
            raise SandboxError("no session: use `with Sandbox(...) as sb:` or call start() first")
        return sid

    def exec(self, argv: Sequence[str], timeout: Optional[Union[float, str]] = None) -> Dict[str, Any]:
        """Run ``argv`` (no shell) in the session, in ``/workspace``; the answer of
        ``run_command`` (``success``, ``output``, ``error``, ``exit_code``, ``timed_out``,
        ``verification`` — the re-verification this call did first — and ``result``)."""
        sid = self._require_session()
        if not argv:
            raise ValueError("argv is empty")
        seconds = _seconds(self.timeout if timeout is None else timeout)
        cmd = [self.executable or binary(), "session", "exec", sid, "--json", "--timeout", _duration(seconds)]
        if self.output_limit:
            cmd += ["--output-limit", self.output_limit]
        result = self._call([*cmd, "--", *argv], seconds)
        timed_out = bool(result.get("timed_out"))
        stderr = result.get("stderr", "")
        if timed_out:
            stderr = (stderr + "\n" if stderr else "") + f"timed out after {seconds:g} s"
            if result.get("session_stopped"):
                self._session = None
        return {
            "success": result.get("exit_code") == 0 and not timed_out,
            "output": result.get("stdout", ""),
            "error": stderr,
            "exit_code": result.get("exit_code"),
            "timed_out": timed_out,
            "truncated": result.get("truncated", {}),
            "verification": result.get("verification", {}),
            # with allow_hosts: the proxy's allowed and blocked requests of this call
            "egress": result.get("egress"),
            "result": result,
        }

    def write_file(self, path: str, data: Union[str, bytes]) -> None:
        """Write ``data`` to ``path`` under ``/workspace`` (relative, or ``/workspace/...``)."""
        sid = self._require_session()
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        with tempfile.TemporaryDirectory(prefix="sandlint-put-") as tmp:
            local = os.path.join(tmp, "data")
            with open(local, "wb") as f:
                f.write(raw)
            self._call([self.executable or binary(), "session", "put", sid, local, path, "--json"], 120.0)

    def read_file(self, path: str) -> bytes:
        """The content of the regular file ``path`` under ``/workspace``."""
        sid = self._require_session()
        with tempfile.TemporaryDirectory(prefix="sandlint-get-") as tmp:
            local = os.path.join(tmp, "data")
            self._call([self.executable or binary(), "session", "get", sid, path, local, "--json"], 120.0)
            if os.path.isdir(local):
                raise SessionRefused(f"{path} is a directory", code="sandlint::sandbox::path_refused")
            with open(local, "rb") as f:
                return f.read()

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """``read_file`` decoded."""
        return self.read_file(path).decode(encoding)

    # -- plumbing -----------------------------------------------------------------------------

    def _call(self, cmd: List[str], seconds: float) -> Dict[str, Any]:
        """Runs a sandlint command that answers one JSON object; raises its error."""
        try:
            proc = subprocess.run(
                cmd,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=seconds + _PROCESS_MARGIN,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise SandboxError(f"sandlint did not answer within {seconds + _PROCESS_MARGIN:.0f} s") from e
        try:
            result = json.loads(proc.stdout.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SandboxError(
                f"sandlint exited {proc.returncode} without a JSON answer: "
                + proc.stderr.decode("utf-8", "replace").strip()[-2000:]
            ) from e
        _raise_error(result)
        return result

    def _options(self, timeout: Optional[Union[float, str]]) -> List[str]:
        opts = ["--json", "--memory", str(self.memory), "--cpus", str(self.cpus), "--pids", str(self.pids)]
        opts += ["--timeout", _duration(self.timeout if timeout is None else timeout)]
        if self.image:
            opts += ["--image", self.image]
        if self.network:
            opts += ["--network", self.network]
        for host in self.allow_hosts:
            opts += ["--allow-host", host]
        if self.user:
            opts += ["--user", self.user]
        for key in self.env:
            if "=" in key or not key:
                raise ValueError(f"invalid environment variable name {key!r}")
            # the value travels in sandlint's environment, not on its command line (where any
            # local user could read it)
            opts += ["--env", key]
        if self.workspace:
            opts += ["--workspace", self.workspace]
        if self.output_limit:
            opts += ["--output-limit", self.output_limit]
        if self.runtime:
            opts += ["--runtime", self.runtime]
        if self.allow:
            opts += ["--allow", ",".join(self.allow)]
        return opts

    def _run(self, what: List[str], argv: List[str], timeout: Optional[Union[float, str]]) -> Dict[str, Any]:
        seconds = _seconds(self.timeout if timeout is None else timeout)
        cmd = [self.executable or binary(), "run", *self._options(timeout), *what, "--", *argv]
        try:
            proc = subprocess.run(
                cmd,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=seconds + _PROCESS_MARGIN,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            # sandlint enforces the deadline itself (the container is removed even if this
            # process dies); reaching this means sandlint itself hung
            raise SandboxError(f"sandlint did not answer within {seconds + _PROCESS_MARGIN:.0f} s") from e
        try:
            result = json.loads(proc.stdout.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SandboxError(
                f"sandlint exited {proc.returncode} without a JSON answer: "
                + proc.stderr.decode("utf-8", "replace").strip()[-2000:]
            ) from e
        _raise_error(result)
        exit_code = result.get("exit_code")
        timed_out = bool(result.get("timed_out"))
        success = exit_code == 0 and not timed_out
        stderr = result.get("stderr", "")
        if timed_out:
            stderr = (stderr + "\n" if stderr else "") + f"timed out after {seconds:g} s"
        elif result.get("oom_killed"):
            stderr = (stderr + "\n" if stderr else "") + f"killed: out of memory (limit {self.memory})"
        return {
            "success": success,
            "output": result.get("stdout", ""),
            "error": stderr,
            "exit_code": exit_code,
            "timed_out": timed_out,
            "oom_killed": bool(result.get("oom_killed")),
            "truncated": result.get("truncated", {}),
            "verification": result.get("verification", {}),
            "result": result,
        }


_SESSION_CODES = (
    "sandlint::sandbox::session_tampered",
    "sandlint::sandbox::session_not_found",
    "sandlint::sandbox::path_refused",
)


def _raise_error(result: Dict[str, Any]) -> None:
    """Raises the error of a sandlint JSON answer, if it has one."""
    error = result.get("error")
    if not isinstance(error, dict):
        return
    code = error.get("code") or ""
    kwargs = {"code": code, "help": error.get("help") or "", "result": result}
    message = error.get("message", "sandlint refused or failed")
    if code == "sandlint::sandbox::refused" or error.get("findings"):
        raise SandboxRefused(message, findings=error.get("findings", []), **kwargs)
    if code in _SESSION_CODES:
        raise SessionRefused(message, **kwargs)
    raise SandboxError(message, **kwargs)


def _seconds(timeout: Union[float, str]) -> float:
    if isinstance(timeout, (int, float)):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        return float(timeout)
    text = timeout.strip()
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * scale
    raise ValueError(f"timeout must be seconds or a duration like '30s', not {timeout!r}")


def _duration(timeout: Union[float, str]) -> str:
    return f"{int(round(_seconds(timeout) * 1000))}ms"
