#!/usr/bin/env python3
"""sandlint's effective Compose projects vs `docker compose config` (issue 13).

For every Compose project sandlint finds under PATHS (`examples/compose_model.rs` prints
sandlint's typed model of each, after override files, `extends`, `include`, `.env`
interpolation, `!reset`/`!override` and the merge rules), runs the real Docker Compose v2
(`docker-compose --profile '*' config --format json --no-env-resolution`, in the project's
directory, with an empty process environment) and compares the two, field by field, over every
field sandlint's rules read. Both sides are brought to one canonical form first (units to
numbers, short syntax to long, relative paths to absolute ones, booleans), so only meaning is
compared.

Deliberate differences (documented in the README, "Compose semantics: the differential"):
- The process environment is never read by sandlint: Compose runs here with `env -i`.
- A value that depends on an unset variable is *unknown* to sandlint (the rules treat it as
  "could be anything") where Compose substitutes an empty string: an unknown value agrees with
  whatever Compose made of it, and is counted apart.
- `env_file` contents are not part of sandlint's model (they usually hold secrets; the rules
  read them separately): Compose runs with `--no-env-resolution`.
- Profiles do not hide services from sandlint: Compose runs with `--profile '*'`.

Prints the agreement figure; `--min-agree N` fails (exit 1) when fewer projects agree,
`--max-differ N` when more differ (CI runs it with 0), and `--report FILE` writes every
difference (project, service, field, both values) and every project Compose rejects, as JSON
lines.
"""

import argparse
import json
import os
import posixpath
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

DEFAULT_FILES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"]
OVERRIDE_FILES = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
]
HOME = "/nonexistent-home"
UNKNOWN = object()


class Unknown:
    """A value sandlint does not know (an unset variable): equal to anything. `raw` is the
    text as written, checked against `docker compose config --no-interpolate`."""

    def __init__(self, raw=None):
        self.raw = raw

    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0

    def __repr__(self):
        return "<unknown>"

    def __lt__(self, other):
        return False


def is_unknown(v):
    return isinstance(v, dict) and set(v) == {"unknown"}


def known(v, f=lambda x: x):
    """sandlint's scalar: None, Unknown, or f(value)."""
    if v is None:
        return None
    if is_unknown(v):
        return Unknown(v["unknown"])
    try:
        return f(v)
    except (ValueError, TypeError):
        return ("unparsed", v)


# ---- units -------------------------------------------------------------------------------


UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def to_bytes(v):
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip().lower()
    if s in ("", "0"):
        return 0
    if s == "-1":
        return -1
    m = re.fullmatch(r"(-?[0-9.]+)\s*([bkmgt]?)b?", s)
    if not m:
        raise ValueError(s)
    return int(float(m.group(1)) * UNITS[m.group(2) or "b"])


def to_bool(v):
    if isinstance(v, bool):
        return v
    s = str(v).lower()
    if s in ("true", "yes", "y", "on"):
        return True
    if s in ("false", "no", "n", "off"):
        return False
    raise ValueError(s)


def to_float(v):
    return float(v)


def to_int(v):
    return int(str(v))


def zero_none(v):
    """A limit of 0 is no limit, as absent is (Compose drops it)."""
    return None if v == 0 and not isinstance(v, Unknown) else v


def falsy_none(v):
    """`false` and absent mean the same for these flags."""
    return None if v is False else v


# ---- paths -------------------------------------------------------------------------------


def resolve(path, base):
    """A host path as Compose resolves it: `~` to the home directory, relative to `base`."""
    if path is None or isinstance(path, Unknown) or isinstance(path, tuple):
        return path
    if path == "~" or path.startswith("~/"):
        path = HOME + path[1:]
    if re.match(r"^[A-Za-z]:[\\/]|^\\\\", path):
        return path  # a Windows path: absolute there, left as written by both
    if not path.startswith("/"):
        # Compose resolves against its working directory as the kernel reports it: symbolic
        # links resolved (`../shared` may be a link)
        path = posixpath.join(os.path.realpath(base or "."), path)
    return posixpath.normpath(path)


def is_remote_context(c):
    return bool(re.match(r"^(https?://|git@|git://|github\.com/)", c or ""))


# ---- sandlint's model to the canonical form ------------------------------------------------


def expand_range(s):
    if s is None or isinstance(s, (Unknown, tuple)):
        return [s]
    m = re.fullmatch(r"(\d+)-(\d+)", s)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if 0 <= b - a <= 1000:
            return [str(i) for i in range(a, b + 1)]
    return [s]


def s_ports(ports):
    out = []
    for p in ports:
        if p.get("unknown"):
            out.append(Unknown())
            continue
        ip = known(p["host_ip"])
        pub = known(p["published"])
        tgt = known(p["target"])
        proto = known(p["protocol"], str.lower) or "tcp"
        if isinstance(ip, str) and ip.startswith("[") and ip.endswith("]"):
            ip = ip[1:-1]
        pubs = expand_range(pub)
        tgts = expand_range(tgt)
        if len(pubs) == len(tgts):
            out += [(ip or None, a or None, b, proto) for a, b in zip(pubs, tgts)]
        elif len(pubs) > 1 and len(tgts) == 1:
            # `8000-8010:80`: Compose publishes one of the range, for the one target.
            out.append((ip or None, pub, tgts[0], proto))
        else:
            out += [(ip or None, None, b, proto) for b in tgts]
    return out


def norm(p):
    """A container path: `/data/` and `/data` are one target."""
    if isinstance(p, str) and p.startswith("/"):
        return posixpath.normpath(p)
    return p


def s_volume(v):
    kind = v["type"]
    src = known(v["source"])
    if kind == "bind":
        src = resolve(src, v.get("source_base"))
    if kind == "unknown":
        kind = Unknown()
    tgt = norm(known(v["target"]))
    return (kind, src, tgt, bool(v["read_only"]))


def s_command(c):
    if c is None:
        return None
    if "list" in c:
        return [known(x) for x in c["list"]]
    s = known(c["string"])
    if isinstance(s, Unknown):
        return s
    # Compose splits the string with go-shellwords, which stops at the first unquoted shell
    # operator (`;`, `&`, `|`, `<`, `>`): what follows is dropped, not run.
    lex = shlex.shlex(s, posix=True, punctuation_chars=";&|<>")
    lex.whitespace_split = True
    words = []
    try:
        for w in lex:
            if w and all(ch in ";&|<>" for ch in w):
                break
            words.append(w)
    except ValueError:
        return ("unparsed", s)
    return words


def s_vars(d):
    return {k: known(v) for k, v in d.items()}


def s_healthcheck(h):
    if h is None:
        return None
    disable = known(h["disable"], to_bool)
    test = [known(t) for t in h["test"]]
    if test and not h["test_is_list"]:
        test = ["CMD-SHELL"] + test
    if test == ["NONE"]:
        disable, test = True, []
    return {"disable": falsy_none(disable), "test": test or None}


def s_extra_hosts(hs):
    out = []
    for h in hs:
        h = known(h)
        if isinstance(h, str):
            name, sep, ip = h.partition("=")
            if not sep:
                name, _, ip = h.partition(":")
            out.append(f"{name}={ip}")
        else:
            out.append(h)
    return sorted(out, key=repr)


def s_devices(ds):
    out = []
    for d in ds:
        d = known(d)
        if isinstance(d, str):
            parts = d.split(":")
            src = parts[0]
            tgt = parts[1] if len(parts) > 1 else src
            perm = parts[2] if len(parts) > 2 else "rwm"
            out.append((src, tgt, perm))
        else:
            out.append(d)
    return sorted(out, key=repr)


def s_service(s):
    b = s["build"]
    build = None
    if b is not None:
        ctx = known(b["context"]) or "."
        if isinstance(ctx, str) and not is_remote_context(ctx):
            ctx = resolve(ctx, b.get("context_base"))
        dockerfile = known(b["dockerfile"])
        if dockerfile is None and b["dockerfile_inline"] is None:
            dockerfile = "Dockerfile"
        build = {
            "context": ctx,
            "dockerfile": dockerfile,
            "dockerfile_inline": known(b["dockerfile_inline"]),
            "target": known(b["target"]),
            # a bare `- ARG` takes its value from the process environment: Compose drops it
            "args": {k: v for k, v in s_vars(b["args"]).items() if v is not None},
            "labels": {k: v if v is not None else "" for k, v in s_vars(b["labels"]).items()},
        }
    networks = sorted(s["networks"])
    if not networks and s["network_mode"] is None:
        networks = ["default"]
    elif not networks and is_unknown(s["network_mode"]):
        networks = Unknown()
    return {
        "image": known(s["image"]),
        "build": build,
        "user": known(s["user"]),
        "privileged": falsy_none(known(s["privileged"], to_bool)),
        "read_only": falsy_none(known(s["read_only"], to_bool)),
        "init": falsy_none(known(s["init"], to_bool)),
        "oom_kill_disable": falsy_none(known(s["oom_kill_disable"], to_bool)),
        "use_api_socket": falsy_none(known(s["use_api_socket"], to_bool)),
        "security_opt": sorted({known(x) for x in s["security_opt"]}, key=repr),
        "cap_add": sorted({known(x) for x in s["cap_add"]}, key=repr),
        "cap_drop": sorted({known(x) for x in s["cap_drop"]}, key=repr),
        "network_mode": known(s["network_mode"]),
        "networks": networks,
        "ports": sorted(s_ports(s["ports"]), key=repr),
        "volumes": sorted((s_volume(v) for v in s["volumes"]), key=repr),
        "mem_limit": zero_none(known(s["mem_limit"], to_bytes)),
        "memswap_limit": zero_none(known(s["memswap_limit"], to_bytes)),
        "cpus": zero_none(known(s["cpus"], to_float)),
        "cpu_quota": zero_none(known(s["cpu_quota"], to_int)),
        "cpu_shares": zero_none(known(s["cpu_shares"], to_int)),
        "pids_limit": zero_none(known(s["pids_limit"], to_int)),
        "limits": {
            "memory": zero_none(known(s["limits"]["memory"], to_bytes)),
            "cpus": zero_none(known(s["limits"]["cpus"], to_float)),
            "pids": zero_none(known(s["limits"]["pids"], to_int)),
        },
        "environment": s_vars(s["environment"]),
        # a bare label is the empty string to Compose
        "labels": {k: v if v is not None else "" for k, v in s_vars(s["labels"]).items()},
        "command": s_command(s["command"]),
        "entrypoint": s_command(s["entrypoint"]),
        "working_dir": known(s["working_dir"]),
        "pid": known(s["pid"]),
        "ipc": known(s["ipc"]),
        "uts": known(s["uts"]),
        "userns_mode": known(s["userns_mode"]),
        "cgroup": known(s["cgroup"]),
        "devices": s_devices(s["devices"]),
        "extra_hosts": s_extra_hosts(s["extra_hosts"]),
        "tmpfs": sorted({known(x) for x in s["tmpfs"]}, key=repr),
        "device_cgroup_rules": sorted({known(x) for x in s["device_cgroup_rules"]}, key=repr),
        "healthcheck": s_healthcheck(s["healthcheck"]),
        "logging_driver": known(s["logging_driver"]),
        "sysctls": s_vars(s["sysctls"]),
    }


# ---- Compose's output to the canonical form ------------------------------------------------


def unescape(v):
    """Compose's output is itself Compose input: every literal `$` is written `$$`."""
    if isinstance(v, str):
        return v.replace("$$", "$")
    if isinstance(v, list):
        return [unescape(x) for x in v]
    if isinstance(v, dict):
        return {unescape(k): unescape(x) for k, x in v.items()}
    return v


def c_str(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def c_map(v):
    """A mapping, or (`--no-interpolate` leaves it as written) a `KEY=value` list."""
    if isinstance(v, list):
        out = {}
        for item in v:
            k, sep, val = str(item).partition("=")
            out[k] = val if sep else None
        return out
    return v or {}


def c_num(f, v):
    if v is None:
        return None
    try:
        return zero_none(f(v))
    except (ValueError, TypeError):
        return v  # `--no-interpolate`: `${MEM}` as written


def c_service(s, as_written=False):
    if not as_written:
        s = unescape(s)
    b = s.get("build")
    build = None
    if b is not None:
        build = {
            "context": b.get("context"),
            "dockerfile": b.get("dockerfile"),
            "dockerfile_inline": b.get("dockerfile_inline"),
            "target": b.get("target"),
            "args": {k: c_str(v) for k, v in c_map(b.get("args")).items()},
            "labels": {k: c_str(v) or "" for k, v in c_map(b.get("labels")).items()},
        }
    limits = ((s.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    hc = s.get("healthcheck")
    healthcheck = None
    if hc is not None:
        test = hc.get("test") or None
        disable = hc.get("disable") or None
        if test == ["NONE"]:
            disable, test = True, None
        healthcheck = {"disable": disable, "test": test}
    networks = sorted((s.get("networks") or {}).keys())
    if not networks and s.get("network_mode") is None:
        networks = ["default"]
    ports = []
    for p in s.get("ports") or []:
        if not isinstance(p, dict):
            ports.append(p)  # `--no-interpolate` may leave an entry as written
            continue
        ports.append(
            (
                p.get("host_ip") or None,
                c_str(p.get("published")) or None,
                c_str(p.get("target")),
                p.get("protocol") or "tcp",
            )
        )
    volumes = []
    for v in s.get("volumes") or []:
        if not isinstance(v, dict):
            volumes.append(v)
            continue
        src = v.get("source")
        if v.get("type") == "bind" and src:
            src = posixpath.normpath(src)
        volumes.append((v.get("type"), src, norm(v.get("target")), bool(v.get("read_only"))))
    devices = [
        (d.get("source"), d.get("target"), d.get("permissions") or "rwm")
        for d in s.get("devices") or []
        if isinstance(d, dict)
    ]
    return {
        "image": s.get("image"),
        "build": build,
        "user": c_str(s.get("user")),
        "privileged": s.get("privileged") or None,
        "read_only": s.get("read_only") or None,
        "init": s.get("init") or None,
        "oom_kill_disable": s.get("oom_kill_disable") or None,
        "use_api_socket": s.get("use_api_socket") or None,
        "security_opt": sorted(set(s.get("security_opt") or []), key=repr),
        "cap_add": sorted(set(s.get("cap_add") or []), key=repr),
        "cap_drop": sorted(set(s.get("cap_drop") or []), key=repr),
        "network_mode": s.get("network_mode"),
        "networks": networks,
        "ports": sorted(ports, key=repr),
        "volumes": sorted(volumes, key=repr),
        "mem_limit": c_num(to_bytes, s.get("mem_limit")),
        "memswap_limit": c_num(to_bytes, s.get("memswap_limit")),
        "cpus": c_num(float, s.get("cpus")),
        "cpu_quota": s.get("cpu_quota"),
        "cpu_shares": s.get("cpu_shares"),
        "pids_limit": s.get("pids_limit"),
        "limits": {
            "memory": c_num(to_bytes, limits.get("memory")),
            "cpus": c_num(float, limits.get("cpus")),
            "pids": limits.get("pids"),
        },
        "environment": {k: c_str(v) for k, v in c_map(s.get("environment")).items()},
        "labels": {k: c_str(v) or "" for k, v in c_map(s.get("labels")).items()},
        "command": s.get("command"),
        "entrypoint": s.get("entrypoint"),
        "working_dir": s.get("working_dir"),
        "pid": s.get("pid"),
        "ipc": s.get("ipc"),
        "uts": s.get("uts"),
        "userns_mode": s.get("userns_mode"),
        "cgroup": s.get("cgroup"),
        "devices": sorted(devices, key=repr),
        "extra_hosts": sorted(s.get("extra_hosts") or [], key=repr),
        "tmpfs": sorted(set(s.get("tmpfs") or []), key=repr),
        "device_cgroup_rules": sorted(set(s.get("device_cgroup_rules") or []), key=repr),
        "healthcheck": healthcheck,
        "logging_driver": (s.get("logging") or {}).get("driver"),
        "sysctls": {k: c_str(v) for k, v in c_map(s.get("sysctls")).items()},
    }


# ---- running Compose -----------------------------------------------------------------------


def compose_args(file):
    """How `docker compose` is run for the project of `file`: in its directory, with no `-f`
    when it is the file Compose picks there by default (then Compose's own override lookup
    is what is compared), else `-f` naming it."""
    d = os.path.dirname(file) or "."
    name = os.path.basename(file)
    default = next((f for f in DEFAULT_FILES if os.path.isfile(os.path.join(d, f))), None)
    files = [] if default == name else ["-f", name]
    return d, files


def run_compose(bin_, file, timeout, *extra):
    d, files = compose_args(file)
    cmd = [bin_, *files, "--profile", "*", "config", "--format", "json", "--no-env-resolution",
           "--no-consistency", *extra]
    env = {"PATH": "/usr/bin:/bin", "HOME": HOME}
    try:
        p = subprocess.run(cmd, cwd=d, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, err[-1] if err else f"exit {p.returncode}"
    try:
        return json.loads(p.stdout), None
    except json.JSONDecodeError as e:
        return None, f"bad json: {e}"


def unknown_count(v):
    if isinstance(v, Unknown):
        return 1
    if isinstance(v, dict):
        return sum(unknown_count(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return sum(unknown_count(x) for x in v)
    return 0


def same(a, b):
    """Equal, an unknown value of ours matching anything; lists compare as multisets (their
    order carries no meaning in these fields, and Compose reorders merged lists)."""
    if isinstance(a, Unknown):
        return True
    if isinstance(a, list) and isinstance(b, list):
        wild = sum(isinstance(x, Unknown) for x in a)
        if wild:
            # an entry sandlint could not read at all (`${RANGE}:7000-7005`) may stand for
            # several of Compose's: the known ones must all be there
            a = [x for x in a if not isinstance(x, Unknown)]
            if len(b) < len(a) + wild:
                return False
            b = list(b)
            for x in a:
                i = next((i for i, y in enumerate(b) if same(x, y)), None)
                if i is None:
                    return False
                b.pop(i)
            return True
        if len(a) != len(b):
            return False
        rest = list(b)
        # exact items first, then the ones holding unknown parts
        for x in sorted(a, key=lambda x: unknown_count(x) > 0):
            i = next((i for i, y in enumerate(rest) if same(x, y)), None)
            if i is None:
                return False
            rest.pop(i)
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() == b.keys():
            return all(same(a[k], b[k]) for k in a)
        # sandlint keeps a key as written (`traefik.http.routers.${ROUTER}.tls`); Compose
        # interpolates it: such a key matches the key Compose made of it
        rest = {k: v for k, v in b.items() if k not in a}
        for k, v in a.items():
            if k in b:
                if not same(v, b[k]):
                    return False
                continue
            if "$" not in k:
                return False
            pattern = re.sub(r"\\\$\\\{[^}]*\\\}|\\\$[A-Za-z_][A-Za-z0-9_]*", ".*", re.escape(k))
            hit = next((x for x in rest if re.fullmatch(pattern, x)), None)
            if hit is None or not same(v, rest.pop(hit)):
                return False
        return not rest
    return a == b


RAW_FIELDS = ["image", "user", "network_mode", "working_dir", "pid", "ipc", "uts",
              "userns_mode", "cgroup", "logging_driver"]
RAW_MAPS = ["environment", "sysctls", "labels"]


def compare_raw(project, raw):
    """Where sandlint's value is unknown, the text it holds must be what Compose read before
    interpolation (`--no-interpolate`): scalar fields, and the values of `environment`,
    `sysctls` and `build.args`. Returns (checked, differences)."""
    checked, diffs = 0, []
    theirs = raw.get("services") or {}
    for name, svc in project["services"].items():
        if name not in theirs:
            continue
        a, b = s_service(svc), c_service(theirs[name], as_written=True)
        pairs = [(f, a[f], b[f]) for f in RAW_FIELDS]
        for m in RAW_MAPS:
            pairs += [(f"{m}.{k}", v, b[m].get(k)) for k, v in a[m].items()]
        if a["build"] and b["build"]:
            pairs += [(f"build.args.{k}", v, b["build"]["args"].get(k))
                      for k, v in a["build"]["args"].items()]
        for field, x, y in pairs:
            if isinstance(x, Unknown) and x.raw is not None:
                checked += 1
                if x.raw != y:
                    diffs.append((name, field, x.raw, y))
    return checked, diffs


def compare(project, composed):
    """The differences between sandlint's project and Compose's, as (service, field, ours, theirs)."""
    diffs = []
    ours = project["services"]
    theirs = composed.get("services") or {}
    for name in sorted(set(ours) | set(theirs)):
        if name not in theirs:
            diffs.append((name, "(service)", "present", "absent"))
            continue
        if name not in ours:
            diffs.append((name, "(service)", "absent", "present"))
            continue
        a = s_service(ours[name])
        b = c_service(theirs[name])
        if ours[name]["env_file"]:
            # Compose folds the env files into `environment`; sandlint reads them apart
            b["environment"] = {k: v for k, v in b["environment"].items() if k in a["environment"]}
        for field in a:
            if not same(a[field], b[field]):
                diffs.append((name, field, a[field], b[field]))
    for name, n in project["networks"].items():
        c = (composed.get("networks") or {}).get(name)
        if c is None:
            continue  # Compose drops networks no service uses
        mine = {
            "internal": falsy_none(known(n["internal"], to_bool)),
            "external": falsy_none(known(n["external"], to_bool)),
            "driver": known(n["driver"]),
        }
        other = {
            "internal": c.get("internal") or None,
            "external": c.get("external") or None,
            "driver": c.get("driver"),
        }
        for field in mine:
            if mine[field] != other[field]:
                diffs.append((f"networks.{name}", field, mine[field], other[field]))
    for name, v in project.get("volumes", {}).items():
        c = unescape((composed.get("volumes") or {}).get(name))
        if c is None:
            continue  # Compose drops volumes no service uses
        opts = c.get("driver_opts") or {}
        device = known(v["device"])
        driver = known(v["driver"])
        o = known(v["o"])
        # compose-go resolves a relative `device:` against the project only for the local
        # driver written out with `o: bind` (volumeDriverOpts); sandlint's HostBind knows when
        if driver == "local" and o == "bind" and isinstance(device, str):
            device = resolve(device, v.get("device_base"))
        mine = {
            "driver": driver,
            "external": falsy_none(known(v["external"], to_bool)),
            "type": known(v["type"]),
            "o": o,
            "device": device,
        }
        other = {
            "driver": c.get("driver"),
            "external": c.get("external") or None,
            "type": c_str(opts.get("type")),
            "o": c_str(opts.get("o")),
            "device": c_str(opts.get("device")),
        }
        for field in mine:
            if not same(mine[field], other[field]):
                diffs.append((f"volumes.{name}", field, mine[field], other[field]))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="the compose_model example's binary")
    ap.add_argument("--compose", required=True, help="the docker-compose v2 binary")
    ap.add_argument("--report", help="write every difference here (JSON lines)")
    ap.add_argument("--min-agree", type=int, default=0, help="fail when fewer projects agree")
    ap.add_argument("--max-differ", type=int, default=None,
                    help="fail when more projects differ (CI: 0)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    # Compose runs in each project's directory: the binaries are named from here
    args.model = os.path.abspath(args.model)
    args.compose = os.path.abspath(args.compose)

    out = subprocess.run([args.model, *args.paths], capture_output=True, check=True)
    projects = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def one(p):
        if "read_error" in p:
            return p, None, "sandlint could not read it"
        composed, err = run_compose(args.compose, p["file"], args.timeout)
        raw = None
        if composed is not None and any(
            unknown_count(s_service(s)) for s in p["services"].values()
        ):
            raw, _ = run_compose(args.compose, p["file"], args.timeout, "--no-interpolate")
        return p, composed, err, raw

    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(one, projects))

    counts = {"projects": len(results), "compose_rejects": 0, "agree": 0, "differ": 0}
    unknowns = 0
    by_field = {}
    report = open(args.report, "w") if args.report else None
    raw_checked, raw_differ = 0, 0
    for p, composed, err, raw in results:
        if composed is None:
            counts["compose_rejects"] += 1
            if report:
                print(json.dumps({"file": p["file"], "compose_rejects": err}), file=report)
            continue
        diffs = compare(p, composed)
        if raw is not None:
            checked, raw_diffs = compare_raw(p, raw)
            raw_checked += checked
            raw_differ += len(raw_diffs)
            diffs += [(svc, f"{field} (as written)", a, b) for svc, field, a, b in raw_diffs]
        if diffs:
            counts["differ"] += 1
            for svc, field, a, b in diffs:
                by_field[field] = by_field.get(field, 0) + 1
                if report:
                    print(
                        json.dumps(
                            {"file": p["file"], "service": svc, "field": field,
                             "sandlint": a, "compose": b},
                            default=repr,
                        ),
                        file=report,
                    )
        else:
            counts["agree"] += 1
            unknowns += sum(unknown_count(s_service(s)) for s in p["services"].values())
    if report:
        report.close()
    loaded = counts["agree"] + counts["differ"]
    pct = 100.0 * counts["agree"] / loaded if loaded else 100.0
    print(
        f"compose differential: {counts['projects']} projects; Compose rejects "
        f"{counts['compose_rejects']}; of the {loaded} it loads, sandlint's model agrees on "
        f"{counts['agree']} ({pct:.1f}%), differs on {counts['differ']}; "
        f"{unknowns} values unknown to sandlint (unset variables) in agreeing projects; "
        f"{raw_checked} of them checked against --no-interpolate, {raw_differ} differ"
    )
    for field, n in sorted(by_field.items(), key=lambda x: -x[1]):
        print(f"  {field}: {n}")
    failed = False
    if counts["agree"] < args.min_agree:
        print(f"FAIL: {counts['agree']} projects agree, fewer than --min-agree {args.min_agree}")
        failed = True
    if args.max_differ is not None and counts["differ"] > args.max_differ:
        print(f"FAIL: {counts['differ']} projects differ, more than --max-differ "
              f"{args.max_differ}; every difference is listed in --report")
        failed = True
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
