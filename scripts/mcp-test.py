"""`sandlint mcp` through the official MCP Python SDK's stdio client (`pip install mcp`),
against the real Docker daemon: the SDK's own handshake, schema checks of the tool results
against the declared outputSchema, a run, a hardened-environment check, a timeout capped by the
server, and a bad argument reported as a tool error. Run by scripts/wheel-test.sh.

    python scripts/mcp-test.py SANDLINT_BINARY PY_IMAGE
"""

import asyncio
import subprocess
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BINARY, IMAGE = sys.argv[1], sys.argv[2]


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
            check(sorted(t.name for t in tools.tools) == ["run_code", "run_command"], "tool list")

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
    bad = subprocess.run([BINARY, "mcp", "--code", "print(1)"], capture_output=True, stdin=subprocess.DEVNULL)
    check(bad.returncode == 2 and b"not --code" in bad.stderr, f"--code accepted: {bad}")
    print("mcp test: ok (official Python SDK client: initialize, tools/list, 4 calls, ping)")


asyncio.run(main())
