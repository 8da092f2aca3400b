"""The Python API against the real Docker daemon (run by scripts/wheel-test.sh in .ci/run).

Images (no registry is reachable, so both are assembled FROM scratch by the script):
SANDLINT_TEST_SH_IMAGE has a static busybox; SANDLINT_TEST_PY_IMAGE adds the host's Python.
"""

import os

import pytest

from sandlint import Sandbox, SandboxError, SandboxRefused, SessionRefused, binary

SH = os.environ["SANDLINT_TEST_SH_IMAGE"]
PY = os.environ["SANDLINT_TEST_PY_IMAGE"]


def test_binary_is_the_wheels():
    assert os.path.basename(binary()) == "sandlint"


def test_execute_python_code():
    r = Sandbox(image=PY).execute_code("import sys; print(6 * 7); print('warn', file=sys.stderr)", timeout=30)
    assert r["success"] is True
    assert r["output"] == "42\n"
    assert r["error"] == "warn\n"
    assert r["exit_code"] == 0
    assert "read-only-rootfs" in r["verification"]["verified"]
    assert r["verification"]["failed"] == []


def test_failure_is_not_success():
    r = Sandbox(image=PY).execute_code("raise SystemExit(3)")
    assert (r["success"], r["exit_code"]) == (False, 3)


def test_the_sandbox_is_hardened_from_the_inside():
    code = "\n".join(
        [
            "import os, socket",
            "print(os.getuid() != 0)",
            "try:",
            "    open('/etc/x', 'w')",
            "    print('wrote')",
            "except OSError:",
            "    print('read-only')",
            "try:",
            "    socket.create_connection(('10.0.0.1', 80), timeout=2)",
            "    print('network')",
            "except OSError:",
            "    print('no network')",
        ]
    )
    r = Sandbox(image=PY).execute_code(code)
    assert r["output"].split() == ["True", "read-only", "no", "network"], r


def test_timeout_kills_the_code():
    r = Sandbox(image=SH).execute_code("sleep 30", timeout=1, lang="sh")
    assert r["success"] is False
    assert r["timed_out"] is True
    assert r["exit_code"] == 124
    assert "timed out after 1 s" in r["error"]


def test_large_code_goes_through_a_file():
    code = "x = 1\n" * 10_000 + "print(x)\n"
    r = Sandbox(image=PY).execute_code(code)
    assert (r["success"], r["output"]) == (True, "1\n")


def test_run_command_and_environment_values_stay_off_the_command_line():
    r = Sandbox(image=SH, env={"GREETING": "hi there"}).run_command(["sh", "-c", 'echo "$GREETING"'])
    assert (r["success"], r["output"]) == (True, "hi there\n")


def test_refusal_names_the_rules():
    with pytest.raises(SandboxRefused) as e:
        Sandbox(image=SH, network="host").run_command(["true"])
    assert "host-network-mode" in e.value.rules
    assert e.value.code == "sandlint::sandbox::refused"


def test_missing_image_is_an_error_not_a_result():
    with pytest.raises(SandboxError):
        Sandbox(image="sandlint-no-such-image:0").run_command(["true"])


def test_options_that_do_not_exist_yet_refuse():
    with pytest.raises(ValueError):
        Sandbox(image=SH, allow_hosts="pypi.org")
    with pytest.raises(ValueError):
        Sandbox(image=SH, network=True)


def test_allow_hosts_goes_through_the_egress_proxy():
    # no server is needed: the proxy itself answers an unlisted name with 403
    r = Sandbox(image=SH, allow_hosts=["allowed.test"]).run_command(
        ["sh", "-c", "wget -q -O - http://denied.test/ 2>&1; echo proxy=${HTTP_PROXY:+set}"]
    )
    assert "403 Forbidden" in r["output"] and "proxy=set" in r["output"], r
    egress = r["result"]["egress"]
    assert egress["hosts"] == ["allowed.test"]
    assert [(e["host"], e["port"]) for e in egress["blocked"]] == [("denied.test", 80)], egress


def _session_containers(sid):
    import subprocess

    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=dev.sandlint.session={sid}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_session_keeps_state_between_calls_and_is_removed_on_exit():
    with Sandbox(image=PY, memory="128m") as sb:
        sid = sb.session
        assert sid and _session_containers(sid)
        assert "read-only-rootfs" in sb.session_info["verified"]
        sb.write_file("pkg/main.py", "import os\nprint(open('/workspace/pkg/data.txt').read().strip(), os.getuid())\n")
        sb.write_file("/workspace/pkg/data.txt", b"from the host\n")
        r = sb.exec(["python3", "pkg/main.py"])
        assert r["success"], r
        uid = r["output"].split()[-1]
        assert r["output"].startswith("from the host ") and uid != "0", r
        assert "read-only-rootfs" in r["verification"]["verified"]
        assert sb.exec(["sh", "-c", "echo kept > /tmp/t; echo made > /workspace/out.txt"])["success"]
        assert sb.exec(["cat", "/tmp/t"])["output"] == "kept\n"
        assert sb.read_file("out.txt") == b"made\n"
        assert sb.read_text("/workspace/pkg/data.txt") == "from the host\n"
        r = sb.exec(["sleep", "30"], timeout=1)
        assert (r["success"], r["timed_out"], r["exit_code"]) == (False, True, 124)
        assert sb.exec(["true"])["success"], "the session did not survive a timed-out exec"
    assert sb.session is None
    assert _session_containers(sid) == []


def _labelled(kind, label):
    import subprocess

    cmd = ["docker", "ps", "-aq"] if kind == "container" else ["docker", "network", "ls", "-q"]
    out = subprocess.run([*cmd, "--filter", f"label={label}"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_session_with_allow_hosts_keeps_its_proxy_and_reports_each_call():
    # no server is needed: the proxy itself answers an unlisted name with 403
    with Sandbox(image=SH, allow_hosts=["allowed.test"]) as sb:
        sid = sb.session
        of = f"dev.sandlint.egress-of=sandlint-session-{sid}"
        assert sb.session_info["egress"]["hosts"] == ["allowed.test"]
        assert len(_labelled("container", of)) == 1 and len(_labelled("network", of)) == 2
        for _ in range(2):
            r = sb.exec(["sh", "-c", "wget -q -O - http://denied.test/ 2>&1; echo proxy=${HTTP_PROXY:+set}"])
            assert "403 Forbidden" in r["output"] and "proxy=set" in r["output"], r
            # each call's own decisions, not the session's so far
            assert [(e["host"], e["port"]) for e in r["egress"]["blocked"]] == [("denied.test", 80)], r
        assert sb.exec(["true"])["egress"]["blocked"] == []
        assert "proxy-running" in [c["name"] for c in r["verification"]["egress"]]
    assert _session_containers(sid) == []
    assert _labelled("container", of) == [] and _labelled("network", of) == []


def test_session_is_removed_on_an_exception():
    with pytest.raises(KeyError):
        with Sandbox(image=SH) as sb:
            sid = sb.session
            raise KeyError("boom")
    assert _session_containers(sid) == []


def test_session_refusals_carry_their_code():
    with Sandbox(image=SH) as sb:
        for bad in ("../etc/passwd", "/etc/passwd"):
            with pytest.raises(SessionRefused) as e:
                sb.read_file(bad)
            assert e.value.code == "sandlint::sandbox::path_refused"
        sb.exec(["ln", "-s", "/etc", "/workspace/etc"])
        with pytest.raises(SessionRefused) as e:
            sb.read_file("etc/passwd")
        assert "symlink" in str(e.value)
        with pytest.raises(SessionRefused):
            sb.write_file("etc/evil", "x")


def test_session_start_refusal_names_the_rule():
    with pytest.raises(SandboxRefused) as e:
        with Sandbox(image=SH, network="host"):
            pass
    assert e.value.rule == "host-network-mode"


def test_py_typed_ships_with_the_package():
    import sandlint

    assert os.path.isfile(os.path.join(os.path.dirname(sandlint.__file__), "py.typed"))
