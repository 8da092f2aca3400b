"""What the classic `SecureSandbox.execute_code(code, timeout)` does, verified.

Runs Python code in a container that sandlint plans hardened (non-root, read-only root, no
capabilities, no-new-privileges, no network, memory/CPU/pids limits), checks with its rules
before creating, inspects after it starts and removes on every path. `pip install sandlint`
installs the binary and this API; the image must be present locally (sandlint never pulls).

    python examples/secure_execution.py [IMAGE]
"""

import sys

from sandlint import Sandbox, SandboxRefused


class SecureSandbox:
    def __init__(self, image: str = "python:3.13-slim", memory: str = "256m") -> None:
        self.sandbox = Sandbox(image=image, memory=memory, cpus=0.5, pids=64)

    def execute_code(self, code: str, timeout: int = 30) -> dict:
        try:
            r = self.sandbox.execute_code(code, timeout=timeout)
        except SandboxRefused as e:
            return {"success": False, "error": f"refused by {', '.join(e.rules)}: {e}"}
        if r["success"]:
            return {"success": True, "output": r["output"]}
        return {"success": False, "error": r["error"] or f"exit status {r['exit_code']}"}


def agent_session(image: str = "python:3.13-slim") -> None:
    """Many steps in one verified container: files persist in /workspace, every call re-checks
    the container first, and it is removed when the block ends (even on an exception)."""
    with Sandbox(image=image, memory="256m") as sb:
        sb.write_file("solution.py", "def add(a, b):\n    return a + b\n")
        sb.write_file("test_solution.py", "from solution import add\nassert add(2, 3) == 5\nprint('ok')\n")
        print(sb.exec(["python3", "test_solution.py"])["output"].strip())
        sb.exec(["sh", "-c", "python3 -c 'print(6 * 7)' > answer.txt"])
        print(sb.read_text("answer.txt").strip())


if __name__ == "__main__":
    box = SecureSandbox(*sys.argv[1:2])
    print(box.execute_code("print(sum(range(10)))"))
    print(box.execute_code("import os; os.system('rm -rf /')  # read-only root: nothing happens"))
    print(box.execute_code("while True: pass", timeout=2))
    agent_session(*sys.argv[1:2])
