#!/usr/bin/env python3
"""`sandlint server` driven by a third-party LSP client: pygls's LanguageClient (lsprotocol's
types and its own JSON-RPC framing), as an editor would drive it.

Opens a bad Dockerfile in a temporary project, checks the published diagnostics (codes, ranges
in UTF-16 code units after non-ASCII text, severity, doc URL), hovers, asks for code actions and
applies the first one as an incremental change, then fixes the file and expects no diagnostics;
then shutdown and exit, and the server's exit code 0.

    python3 -m venv v && v/bin/pip install 'pygls>=2,<3' lsprotocol
    v/bin/python scripts/lsp-client-test.py target/debug/sandlint
"""

import asyncio
import os
import sys
import tempfile

from lsprotocol import types
from pygls.lsp.client import LanguageClient

DIGEST = "sha256:" + "0" * 64
BAD = 'FROM alpine:3.19\nLABEL note="héllo 🦀" \nENV A="🦀" PASSWORD=hunter2hunter2\nUSER root\n'
FIXED = f'FROM alpine:3.19@{DIGEST}\nHEALTHCHECK CMD ["/bin/true"]\nUSER 10001\n'
WAIT = 30


def fail(message):
    print(f"lsp client test: {message}", file=sys.stderr)
    sys.exit(1)


def summary(diagnostics):
    return [
        f"{d.code} {d.range.start.line}:{d.range.start.character}-"
        f"{d.range.end.line}:{d.range.end.character}"
        for d in diagnostics
    ]


async def main(binary):
    project = tempfile.mkdtemp()
    os.mkdir(os.path.join(project, ".git"))
    path = os.path.join(project, "Dockerfile")
    uri = "file://" + path
    published = asyncio.Queue()
    client = LanguageClient("sandlint-lsp-client-test", "1")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params):
        if params.uri == uri:
            published.put_nowait(params.diagnostics)

    async def diagnostics():
        return await asyncio.wait_for(published.get(), WAIT)

    await client.start_io(binary, "server", cwd=project)
    result = await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri="file://" + project,
        )
    )
    if result.server_info.name != "sandlint":
        fail(f"server info: {result.server_info}")
    if result.capabilities.position_encoding not in (None, "utf-16"):
        fail(f"position encoding: {result.capabilities.position_encoding}")
    client.initialized(types.InitializedParams())

    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="dockerfile", version=1, text=BAD
            )
        )
    )
    found = await diagnostics()
    # column 11 of line 2 in UTF-16 units: `ENV A="🦀" ` is 10 code points, 11 units
    want = ["SLD021 0:0-0:16", "SLD012 0:5-0:16", "SLD006 2:11-2:19", "SLD001 3:5-3:9"]
    if summary(found) != want:
        fail(f"diagnostics: {summary(found)} != {want}")
    root = found[-1]
    if root.severity != types.DiagnosticSeverity.Error or root.source != "sandlint":
        fail(f"severity/source: {root}")
    if not root.code_description.href.endswith("/rules/root-user.md"):
        fail(f"doc URL: {root.code_description.href}")

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=6),
        )
    )
    if hover is None or "root-user" not in hover.contents.value:
        fail(f"hover: {hover}")

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=root.range,
            context=types.CodeActionContext(diagnostics=[root]),
        )
    )
    titles = [a.title for a in actions]
    if titles != [
        "Suppress `root-user` (SLD001) here",
        "Suppress `root-user` (SLD001) in this file",
    ]:
        fail(f"code actions: {titles}")
    edit = actions[0].edit.changes[uri][0]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)
            ],
        )
    )
    after = summary(await diagnostics())
    if after != want[:3]:
        fail(f"after the suppression: {after}")

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=FIXED)],
        )
    )
    fixed = await diagnostics()
    if fixed:
        fail(f"fixed file still has diagnostics: {summary(fixed)}")

    await client.shutdown_async(None)
    client.exit(None)
    server = client._server
    code = await asyncio.wait_for(server.wait(), WAIT)
    await client.stop()
    if code != 0:
        fail(f"server exit code {code}")
    print("lsp client test: pygls client: diagnostics, hover, code actions, sync, exit 0")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: lsp-client-test.py PATH/TO/sandlint")
    asyncio.run(main(os.path.abspath(sys.argv[1])))
