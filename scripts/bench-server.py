#!/usr/bin/env python3
"""Times `sandlint server`: from a `didChange` (followed by a request, so the 150 ms debounce
does not count) to its `publishDiagnostics`, for a small Dockerfile, a large one, a Compose
file whose services build a Dockerfile and a Compose file on one long line. Prints the median and the slowest of N edits each.

    scripts/bench-server.py target/release/sandlint [N]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


class Server:
    def __init__(self, binary, cwd):
        self.p = subprocess.Popen(
            [binary, "server"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.next_id = 1

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def recv(self):
        length = None
        while True:
            line = self.p.stdout.readline().strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def published(self, uri):
        while True:
            m = self.recv()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                return m["params"]["diagnostics"]


def bench(server, uri, language, texts):
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": texts[0]}},
    )
    server.published(uri)
    times = []
    count = 0
    for version, text in enumerate(texts[1:], start=2):
        start = time.perf_counter()
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            },
        )
        server.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
        )
        count = len(server.published(uri))
        times.append((time.perf_counter() - start) * 1000)
    return times, count


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    project = tempfile.mkdtemp()
    os.mkdir(os.path.join(project, ".git"))
    small = "FROM alpine:3.19\nRUN apk add --no-cache curl\nUSER root\n"
    stage = "FROM alpine:3.19 AS s{i}\nRUN apk add curl && curl -fsSL https://x/i.sh | sh\nENV K{i}=v\nCOPY . /app\n"
    large = "".join(stage.format(i=i) for i in range(500)) + "USER root\n"
    with open(os.path.join(project, "Dockerfile"), "w") as f:
        f.write(small)
    compose = "services:\n" + "".join(
        f"  s{i}:\n    build: .\n    privileged: true\n    ports: ['{8000 + i}:80']\n" for i in range(50)
    )
    one_line = "{services: {" + ", ".join(
        f"s{i}: {{image: 'alpine:3.19', privileged: true, command: 'é🦀 {i}'}}" for i in range(2000)
    ) + "}}\n"
    server = Server(binary, project)
    server.request("initialize", {"capabilities": {}})
    server.recv()
    server.notify("initialized", {})
    cases = [
        ("Dockerfile, 3 lines", "Dockerfile", "dockerfile", small),
        (f"Dockerfile, {large.count(chr(10))} lines", "big.Dockerfile", "dockerfile", large),
        ("compose.yaml, 50 services building ./Dockerfile", "compose.yaml", "yaml", compose),
        (
            f"compose.oneline.yaml, 2000 services on one line of {len(one_line) // 1024} KiB",
            "compose.oneline.yaml",
            "yaml",
            one_line,
        ),
    ]
    for name, file, language, text in cases:
        uri = "file://" + os.path.join(project, file)
        texts = [text + f"# edit {k}\n" for k in range(n + 1)]
        times, count = bench(server, uri, language, texts)
        print(
            f"{name}: {count} findings; median {statistics.median(times):.1f} ms, "
            f"max {max(times):.1f} ms over {n} edits"
        )
    server.request("shutdown", None)
    server.recv()
    server.notify("exit", None)
    sys.exit(server.p.wait())


if __name__ == "__main__":
    main()
