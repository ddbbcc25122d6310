"""Gates QA steers: known issues with an expiry, degraded before failed, and the report's quality gate.

Each runs the suite as a user would (a subprocess in a laid-out copy) against a loopback server
whose routes answer as the case needs: a route that answers 500 under a known-issue entry, the
same entry past its date, a known route that is fixed, a route slower than ``warn_ms``.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import Route, Server, serve
from .suite import REPO, lay_out, outcomes, run_suite

ENDPOINTS = """\
[[endpoint]]
path = "/ok"
status = 200

[[endpoint]]
path = "/reports"
status = 200
"""
BROKEN = "GET /reports -> 200"
TODAY = datetime.date.today()


@pytest.fixture(scope="module")
def api() -> Iterator[Server]:
    """``/ok`` answers 200; ``/reports`` answers 500 (the known issue); ``/slow`` 200 after 0.3 s."""
    routes = {"/ok": Route(), "/reports": Route(status=500, body='{"detail": "boom"}'), "/slow": Route(delay_s=0.3)}
    with serve(Server(routes=routes)) as server:
        yield server


def suite(
    pytester: pytest.Pytester, api: Server, known: str | None, *, top: str = "", endpoints: str = ENDPOINTS, http: str = ""
) -> Path:
    """A laid-out suite with an environment for ``api`` (no database) and, if given, its known-issues file."""
    lay_out(pytester.path)
    (pytester.path / "endpoints.toml").write_text(endpoints)
    if known is not None:
        (pytester.path / "known-issues.toml").write_text(textwrap.dedent(known))
        top += 'known_issues = "known-issues.toml"\n'
    env = pytester.path / "gates.toml"
    env.write_text(f'production = false\nbase_url = "{api.url}"\ncontracts = "endpoints.toml"\n{top}\n[http]\n{http}')
    return env


def entry(check: str, *, until: datetime.date | None = TODAY + datetime.timedelta(days=30)) -> str:
    line = f"until = {until.isoformat()}\n" if until else ""
    return f'[[known]]\ncheck = "{check}"\nissue = "https://tracker.example.com/browse/OPS-412"\n{line}'


def allure_result(root: Path, name: str) -> dict[str, object]:
    found = [json.loads(p.read_text()) for p in (root / "reports/allure-results").glob("*-result.json")]
    return next(r for r in found if r["name"] == name)


def test_known_failing_check_does_not_fail_the_run(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, entry("GET /rep*"))  # a glob over ids
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert result.ret == 0, result.stdout.str()
    assert outcomes(result)[BROKEN] == "xfail"
    result.stdout.fnmatch_lines(["smokeproof: not checked here: *certificates (base_url is http://)*"])
    result.stdout.fnmatch_lines(
        ["XFAIL *GET /reports -> 200* - known (OPS-412) until *: GET http://*/reports: expected 200, got 500*"]
    )
    table = (pytester.path / "reports/summary.md").read_text()
    assert f"| {BROKEN} | 200, < 3000 ms | 500 in" in table and "| 🟡 known (OPS-412) |" in table
    assert "1 known issue (failing, not failing the run): GET /reports -> 200 (OPS-412)." in table
    assert "✅ **healthy**" in table
    known = allure_result(pytester.path, BROKEN)
    assert known["status"] == "failed" and known["statusDetails"]["known"] is True  # type: ignore[index]
    assert {"name": "smokeproof_known", "value": "OPS-412"} in known["labels"]  # type: ignore[operator]
    assert {"type": "issue", "url": "https://tracker.example.com/browse/OPS-412", "name": "OPS-412"} in known["links"]  # type: ignore[operator]
    assert allure_result(pytester.path, "GET /ok -> 200")["status"] == "passed"
    assert 'skipped type="pytest.xfail"' in (pytester.path / "reports/junit.xml").read_text()


def test_expired_entry_fails_again_saying_so(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, entry(BROKEN, until=TODAY - datetime.timedelta(days=1)))
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert result.ret == 1
    assert outcomes(result)[BROKEN] == "failed"
    result.stdout.fnmatch_lines(["*known issue OPS-412 (https://tracker.example.com/browse/OPS-412) expired on *"])
    assert "known-issue entry OPS-412 expired on" in (pytester.path / "reports/summary.md").read_text()
    failed = allure_result(pytester.path, BROKEN)
    assert failed["status"] == "failed" and "known" not in failed["statusDetails"]  # type: ignore[operator]
    assert failed["statusDetails"]["message"].startswith("known issue OPS-412 (")  # type: ignore[index]


def test_known_check_that_passes_is_fixed_and_fails_with_strict_known(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, entry("GET /ok -> 200"), endpoints=ENDPOINTS.split("\n\n")[0] + "\n")
    lenient = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert lenient.ret == 0
    lenient.stdout.fnmatch_lines(["XPASS *GET /ok -> 200* fixed: remove the known-issue entry (OPS-412)*"])
    assert "| ✅ pass, fixed: remove the known-issue entry (OPS-412) |" in (pytester.path / "reports/summary.md").read_text()

    env.write_text(env.read_text().replace("[http]", "strict_known = true\n[http]"))
    strict = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert strict.ret == 1
    strict.stdout.fnmatch_lines(["*[[]XPASS(strict)[]] GET /ok -> 200: fixed: remove the known-issue entry (OPS-412)*"])
    fixed = allure_result(pytester.path, "GET /ok -> 200")
    assert fixed["status"] == "failed"
    assert fixed["statusDetails"]["message"] == "[XPASS(strict)] GET /ok -> 200: fixed: remove the known-issue entry (OPS-412)"  # type: ignore[index]


def test_entry_matching_no_check_is_a_usage_error(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, entry(BROKEN) + "\n" + entry("GET /report -> 200"))
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "known-issues.toml: [[known]] #2 (GET /report -> 200): the entry matches no check" in result.stderr.str()


def test_production_entry_without_until_is_refused(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, entry(BROKEN, until=None))
    env.write_text(env.read_text().replace("production = false", "production = true"))
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "known-issues.toml: [[known]] #1 (GET /reports -> 200): a known issue needs 'until'" in result.stderr.str()


SLOW = '[[endpoint]]\npath = "/slow"\nstatus = 200\nwarn_ms = 100\n'


def test_degraded_passes_unless_fail_on_degraded(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, None, endpoints=SLOW)
    result = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert result.ret == 0, result.stdout.str()
    table = (pytester.path / "reports/summary.md").read_text()
    assert "| GET /slow -> 200 | 200, < 3000 ms (warn 100 ms) | 200 in " in table and "| 🟠 degraded |" in table
    assert "1 degraded (passing, close to failing; --fail-on-degraded fails them): GET /slow -> 200." in table
    labels = {label["name"]: label["value"] for label in allure_result(pytester.path, "GET /slow -> 200")["labels"]}  # type: ignore[attr-defined]
    assert (
        labels["smokeproof_degraded"].startswith("took ")
        and "over warn_ms 100 ms (budget 3000 ms)" in labels["smokeproof_degraded"]
    )

    strict = run_suite(pytester, f"--env-file={env}", "-m", "contracts", "--fail-on-degraded")
    assert strict.ret == 1
    strict.stdout.fnmatch_lines(["*GET http://*/slow: expected 200, got 200 in * ms, degraded: took * ms, over warn_ms 100 ms*"])
    assert "  category:\n    Slow endpoints" in strict.stdout.str()
    labels = {label["name"]: label["value"] for label in allure_result(pytester.path, "GET /slow -> 200")["labels"]}  # type: ignore[attr-defined]
    assert labels["smokeproof_category"] == "Slow endpoints"  # what Allure 3's categories match


def test_warn_ms_at_or_over_the_budget_is_refused(pytester: pytest.Pytester, api: Server) -> None:
    env = suite(pytester, api, None, endpoints=SLOW, http="max_ms = 100\n")
    result = run_suite(pytester, f"--env-file={env}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "'warn_ms' (100) must be below the latency budget ([http] max_ms = 100)" in result.stderr.str()


def _report(root: Path) -> dict[str, object]:
    """``smokeproof report`` in ``root``; the quality gate Allure evaluated into the report."""
    if not (root / "package.json").exists():
        (root / "package.json").write_text((REPO / "package.json").read_text())
        (root / "node_modules").symlink_to(REPO / "node_modules")
    done = subprocess.run(
        [sys.executable, "-m", "smokeproof.cli.main", "report"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The gate as the single file embeds it (the widget QA's browser reads), and as Allure left it beside the file.
    html = (root / "reports/allure-report/index.html").read_text()
    embedded = re.search(r'd\("widgets/quality-gate\.json","([A-Za-z0-9+/=]+)"\)', html)
    assert embedded is not None, "the single-file report carries no quality gate"
    rules = json.loads(base64.b64decode(embedded.group(1)))["default"]
    beside = json.loads((root / "reports/allure-report/quality-gate.json").read_text())
    assert [(r["rule"], r["success"], r["actual"]) for r in rules] == [(r["rule"], r["success"], r["actual"]) for r in beside]
    return {"passed": all(rule["success"] for rule in rules), "rules": rules, "stdout": done.stdout}


@pytest.mark.slow
def test_report_quality_gate_equals_the_exit_status(pytester: pytest.Pytester, api: Server) -> None:
    if shutil.which("node") is None or not (REPO / "node_modules" / "@allurereport" / "core").exists():
        pytest.skip("Node.js or the pinned Allure 3 (npm ci) is missing: HTML report not generated")
    env = suite(pytester, api, entry(BROKEN))
    known = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert known.ret == 0
    gate = _report(pytester.path)
    assert gate["passed"] is True, gate  # the known issue counts as no failure, in Allure as in the run
    assert "smokeproof: quality gate: passed (maxFailures 0/0, minTestsCount 1/1)" in str(gate["stdout"])

    (pytester.path / "known-issues.toml").write_text(entry(BROKEN, until=TODAY - datetime.timedelta(days=1)))
    expired = run_suite(pytester, f"--env-file={env}", "-m", "contracts")
    assert expired.ret == 1
    gate = _report(pytester.path)
    assert gate["passed"] is False
    failed = [rule for rule in gate["rules"] if not rule["success"]]  # type: ignore[attr-defined]
    assert [(rule["rule"], rule["actual"]) for rule in failed] == [("maxFailures", 1)]

    nothing = run_suite(pytester, f"--env-file={env}", "-m", "schema")  # no database: every check skipped
    assert nothing.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    gate = _report(pytester.path)
    assert gate["passed"] is False
    assert [rule["rule"] for rule in gate["rules"] if not rule["success"]] == ["minTestsCount"]  # type: ignore[attr-defined]
