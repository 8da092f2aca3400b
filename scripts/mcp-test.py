"""`sandlint mcp` through the official MCP Python SDK's stdio client (`pip install mcp`),
against the real Docker daemon: the SDK's own handshake, schema checks of the tool results
against the declared outputSchema, a run, a hardened-environment check, a timeout capped by the
server, and a bad argument reported as a tool error. Then a session: session_start,
write_file, session_exec reading it, state kept in /tmp between execs, read_file, calls that
try to change the sandbox options refused, session_stop; and the sessions a server started
removed when its client goes away, and when the server is SIGKILLed. Then a server with
--allow-host: each session_exec answer carries that exec's proxy decisions, and stopping the
session removes its sidecar and networks. Run by scripts/wheel-test.sh.

    python scripts/mcp-test.py SANDLINT_BINARY PY_IMAGE
"""

import asyncio
import json
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BINARY, IMAGE = sys.argv[1], sys.argv[2]


def docker_ps(label):
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def check(condition, what):
    if not condition:
        raise SystemExit(f"mcp test: {what}")


async def main():
    params = StdioServerParameters(command=BINARY, args=["mcp", "--image", IMAGE, "--timeout", "5s", "--memory", "128m"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check(init.server_info.name == "sandlint", f"server name {init.server_info.name!r}")
            tools = await session.list_tools()
            names = sorted(t.name for t in tools.tools)
            check(names == ["read_file", "run_code", "run_command", "session_exec", "session_start", "session_stop", "write_file"], f"tool list {names}")

            r = await session.call_tool("run_code", {"code": "print(6 * 7)"})
            check(not r.is_error, f"run_code failed: {r}")
            check(r.structured_content["stdout"] == "42\n", f"stdout {r.structured_content['stdout']!r}")
            check("read-only-rootfs" in r.structured_content["verified"], "read-only root not verified")
            check("42" in r.content[0].text, "text content")

            code = "import os\ntry:\n    open('/etc/x', 'w')\nexcept OSError:\n    print('ro', os.getuid())"
            r = await session.call_tool("run_code", {"code": code, "language": "python"})
            check(r.structured_content["stdout"].split()[0] == "ro", f"{r.structured_content}")
            check(r.structured_content["stdout"].split()[1] != "0", "ran as root")

            start = time.monotonic()
            r = await session.call_tool("run_command", {"argv": ["sleep", "60"], "timeout": 600})
            elapsed = time.monotonic() - start
            check(r.structured_content["timed_out"] and r.structured_content["exit_code"] == 124, f"{r.structured_content}")
            check(elapsed < 30, f"the server's 5 s limit did not cap the call's 600 s ({elapsed:.0f} s)")

            r = await session.call_tool("run_code", {"code": "x", "language": "cobol"})
            check(r.is_error and "language" in r.content[0].text, f"bad language: {r}")
            await session.send_ping()

            # a session: write, exec reading it, state in /tmp between execs, read back, stop
            r = await session.call_tool("session_start", {"ttl": 120})
            check(not r.is_error, f"session_start failed: {r}")
            sid = r.structured_content["session"]
            check("read-only-rootfs" in r.structured_content["verified"], f"start not verified: {r.structured_content}")
            check(r.structured_content["ttl_left"] <= 120, "ttl not honoured")
            r = await session.call_tool("write_file", {"session": sid, "path": "src/hello.py", "content": "print('hi from a file')\n"})
            check(not r.is_error and r.structured_content["path"] == "/workspace/src/hello.py", f"write_file: {r}")
            r = await session.call_tool("session_exec", {"session": sid, "argv": ["python3", "src/hello.py"]})
            check(not r.is_error and r.structured_content["stdout"] == "hi from a file\n", f"exec: {r}")
            check("read-only-rootfs" in r.structured_content["verified"], "exec not re-verified")
            r = await session.call_tool("session_exec", {"session": sid, "argv": ["sh", "-c", "echo kept > /tmp/state; id -u > /workspace/uid"]})
            check(r.structured_content["exit_code"] == 0, f"exec: {r}")
            r = await session.call_tool("session_exec", {"session": sid, "argv": ["cat", "/tmp/state"]})
            check(r.structured_content["stdout"] == "kept\n", f"/tmp did not persist: {r}")
            r = await session.call_tool("read_file", {"session": sid, "path": "/workspace/uid"})
            check(not r.is_error and r.structured_content["content"].strip() not in ("", "0"), f"read_file: {r}")
            r = await session.call_tool("session_exec", {"session": sid, "argv": ["sleep", "60"], "timeout": 600})
            check(r.structured_content["timed_out"] and r.structured_content["exit_code"] == 124, f"exec timeout: {r}")
            # the sandbox options are the server's: a call naming one is refused, explicitly
            for tool, args in [
                ("session_start", {"network": "host"}),
                ("session_start", {"allow": ["privileged-container"], "ttl": 10}),
                ("session_exec", {"session": sid, "argv": ["true"], "user": "0"}),
                ("run_command", {"argv": ["true"], "image": "other"}),
            ]:
                r = await session.call_tool(tool, args)
                check(r.is_error and "refused" in r.content[0].text, f"{tool} {args} was not refused: {r}")
            r = await session.call_tool("read_file", {"session": sid, "path": "../etc/passwd"})
            check(r.is_error and ".." in r.content[0].text, f"path escape: {r}")
            r = await session.call_tool("session_exec", {"session": "0123456789ab", "argv": ["true"]})
            check(r.is_error and "no session" in r.content[0].text, f"foreign session: {r}")
            r = await session.call_tool("session_stop", {"session": sid})
            check(not r.is_error and r.structured_content["removed"], f"stop: {r}")
            check(not docker_ps(f"dev.sandlint.session={sid}"), "the stopped session is still there")
            # one more, left to the server's exit
            r = await session.call_tool("session_start", {})
            check(not r.is_error, f"second session_start: {r}")
            left = r.structured_content["session"]
    check(not docker_ps(f"dev.sandlint.session={left}"), "the server left its session behind on exit")
    # a server killed by a signal (SIGKILL: no handler runs) still takes its sessions along:
    # their watchdogs are bound to its pid
    killed = subprocess.Popen([BINARY, "mcp", "--image", IMAGE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "session_start", "arguments": {}}}
    killed.stdin.write((json.dumps(call) + "\n").encode())
    killed.stdin.flush()
    answer = json.loads(killed.stdout.readline())
    orphan = answer["result"]["structuredContent"]["session"]
    check(docker_ps(f"dev.sandlint.session={orphan}"), "no session to orphan")
    killed.kill()
    killed.wait()
    deadline = time.monotonic() + 15
    while docker_ps(f"dev.sandlint.session={orphan}") and time.monotonic() < deadline:
        time.sleep(0.25)
    check(not docker_ps(f"dev.sandlint.session={orphan}"), "a SIGKILLed server's session outlived it")
    await egress_session()
    bad = subprocess.run([BINARY, "mcp", "--code", "print(1)"], capture_output=True, stdin=subprocess.DEVNULL)
    check(bad.returncode == 2 and b"not --code" in bad.stderr, f"--code accepted: {bad}")
    print("mcp test: ok (official Python SDK client: initialize, tools/list, 4 calls, ping; a session: 16 calls, removed on exit and on SIGKILL; an egress session: its execs' own decisions, nothing left)")


def docker_networks(label):
    out = subprocess.run(["docker", "network", "ls", "-q", "--filter", f"label={label}"], capture_output=True, text=True, check=True)
    return out.stdout.split()


async def egress_session():
    """A server with an allowlist: its session's execs carry their own proxy decisions
    (`egress` in structuredContent, checked against the outputSchema by the SDK); the sidecar and
    both networks go with the session."""
    params = StdioServerParameters(command=BINARY, args=["mcp", "--image", IMAGE, "--allow-host", "allowed.test"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            r = await session.call_tool("session_start", {"ttl": 120})
            check(not r.is_error, f"egress session_start failed: {r}")
            sid = r.structured_content["session"]
            of = f"dev.sandlint.egress-of=sandlint-session-{sid}"
            check(len(docker_ps(of)) == 1 and len(docker_networks(of)) == 2, "no sidecar and networks")
            for _ in range(2):
                r = await session.call_tool("session_exec", {"session": sid, "argv": ["sh", "-c", "wget -q -O - http://denied.test/ 2>&1"]})
                check("403 Forbidden" in r.structured_content["stdout"], f"no 403: {r}")
                blocked = [(e["host"], e["port"]) for e in r.structured_content["egress"]["blocked"]]
                check(blocked == [("denied.test", 80)], f"this exec's decisions: {blocked}")
                check("egress: 0 allowed, 1 blocked" in r.content[0].text, f"text: {r.content[0].text}")
            r = await session.call_tool("session_stop", {"session": sid})
            check(not r.is_error and r.structured_content["removed"], f"stop: {r}")
            check(not docker_ps(of) and not docker_networks(of), "the egress session left its sidecar or networks")


asyncio.run(main())
