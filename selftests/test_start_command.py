"""A ``[start]`` target that logs to stdout, as uvicorn's access log does, keeps serving through the run.

The pipe between the target and the suite holds 64 KiB: a target whose stdout nobody reads after
its JSON line blocks on its next write, and every check after that times out against an app that
looks up but answers nothing.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from smokeproof.config import targets
from smokeproof.config.environment import StartCommand

from .suite import lay_out, outcomes, run_suite

pytestmark = pytest.mark.slow

# Prints its address, then 200 KiB of log on stdout before it serves a request, and a log line per
# request after; stops when its stdin closes (the suite's polite signal).
CHATTY_APP = textwrap.dedent(
    """\
    import http.server, json, sys, threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            sys.stdout.write("access " + (format % args) + " " + "." * 2000 + "\\n")
            sys.stdout.flush()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"base_url": "http://127.0.0.1:%d" % server.server_address[1]}), flush=True)
    for n in range(2000):
        sys.stdout.write("startup log line %d %s\\n" % (n, "x" * 100))
    sys.stdout.flush()
    print("LAST STARTUP LINE", flush=True)

    def stop_when_stdin_closes():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    server.serve_forever()
    """
)


def test_a_target_that_logs_over_64_kib_to_stdout_keeps_serving(pytester: pytest.Pytester) -> None:
    lay_out(pytester.path)
    (pytester.path / "chatty.py").write_text(CHATTY_APP)
    (pytester.path / "endpoints.toml").write_text(
        "".join(f'[[endpoint]]\npath = "/health/{n}"\nstatus = 200\n\n' for n in range(5))
    )
    (pytester.path / "env.toml").write_text(
        textwrap.dedent(
            """\
            production = false
            contracts = "endpoints.toml"

            [start]
            command = ["{python}", "chatty.py"]
            cwd = "."

            [http]
            timeout_s = 3
            """
        )
    )
    result = run_suite(pytester, "--env-file=env.toml", "tests/contracts/test_endpoints.py")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert [outcomes(result).get(f"GET /health/{n} -> 200") for n in range(5)] == ["passed"] * 5


def test_what_the_target_writes_after_its_line_goes_to_the_log(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY_APP)
    spec = StartCommand(command=("{python}", "chatty.py"), cwd=tmp_path, ready_timeout_s=30, tokens={})
    target = targets.start(spec)
    try:
        deadline = time.monotonic() + 30  # a bound on waiting, not a timed assertion
        while b"LAST STARTUP LINE" not in target.log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = target.log.read_bytes()
    finally:
        target.stop()
    assert log.count(b"startup log line ") == 2000 and b"LAST STARTUP LINE" in log
    assert b'"base_url"' not in log  # the JSON line is the suite's, not the log's
    assert target.process.returncode is not None and not target.log.exists()
