"""The reporting side of a run: collects verdicts, writes the summary and Allure's side files."""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smokeproof.database.revision_source import describe_source
from smokeproof.reporting import allure_files, allure_writer, summary
from smokeproof.verdict import Verdict

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.fixtures import SmokeConfig

HISTORY = Path("history") / "last-run.json"


class ReportingPlugin:
    """Registered by :mod:`smokeproof.pytest_plugin.hooks`; one per session."""

    def __init__(self, config: pytest.Config, verdicts: pytest.StashKey[Verdict], settings: pytest.StashKey[SmokeConfig]) -> None:
        self.config = config
        self.verdict_key = verdicts
        self.settings_key = settings
        self.rows: dict[str, summary.Row] = {}
        self.reports = Path(config.rootpath) / "reports"
        self.started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        self.writer: allure_writer.ThreadedFileLogger | None = None
        self.write_error: str | None = None

    def pytest_sessionstart(self) -> None:
        if not self.config.getoption("collectonly"):
            self.writer = allure_writer.install(self.config)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.rows[item.nodeid] = self._row(item, report)
        return report

    def _row(self, item: pytest.Item, report: pytest.TestReport) -> summary.Row:
        verdict = item.stash.get(self.verdict_key, None)
        callspec = getattr(item, "callspec", None)
        check = callspec.id if callspec is not None else item.name
        if verdict is not None and report.when == "call":
            outcome = "passed" if report.passed else "failed"
            return summary.Row(
                verdict.check, verdict.expected, verdict.actual, outcome, verdict.category.value if verdict.category else ""
            )
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            return summary.Row(check, "-", reason.removeprefix("Skipped: ")[:120], "skipped")
        if report.failed:
            first = str(report.longrepr).strip().splitlines()
            return summary.Row(check, "-", first[-1][:160] if first else "error", "failed" if report.when == "call" else "error")
        return summary.Row(check, "-", "passed", "passed")

    def _header(self) -> dict[str, str]:
        smoke = self.config.stash[self.settings_key]
        env = smoke.env
        header = {
            "environment": env.name,
            "base URL": env.redactor(env.base_url or "(none)"),
            "production": "yes" if env.production else "no",
            "expected revision from": describe_source(env, smoke.expected_override),
            "database": env.masked_database_url(),
            "run at": self.started,
        }
        if smoke.run is not None and smoke.run.snapshot is not None:
            header["database server"] = f"PostgreSQL {smoke.run.snapshot.server_version}"
        if smoke.database_revision is not None:
            header["database revision"] = smoke.database_revision
        if smoke.expected_revision is not None:
            header["expected revision"] = smoke.expected_revision
        return header

    @pytest.hookimpl(trylast=True)  # after session fixtures are torn down: their Allure containers are queued
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        results = getattr(self.config.option, "allure_report_dir", None)
        try:
            self._write_reports(results)
        except OSError as exc:
            self.write_error = f"{exc.strerror or exc.__class__.__name__}: {exc.filename or self.reports}"
        if self.writer is not None:
            self.write_error = self.writer.flush() or self.write_error
        if self.write_error is not None:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _write_reports(self, results: str | None) -> None:
        if not self.rows or self.config.getoption("collectonly"):
            return
        redact = self.config.stash[self.settings_key].env.redactor
        header = self._header()
        before = summary.load_previous(self.reports / HISTORY)
        rows = list(self.rows.values())
        text = redact(summary.markdown(rows, before, header))
        self.reports.mkdir(parents=True, exist_ok=True)
        (self.reports / "summary.md").write_text(text, encoding="utf-8")
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        self.table = [redact(line) for line in summary.terminal(rows, before)]
        # Checks not run this time (-m, -k) keep their last known state for the next comparison.
        summary.save(self.reports / HISTORY, [*{**before, **{r.check: r for r in rows}}.values()], header)
        if results:
            allure_files.write(Path(results), header, redact)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.write_error is not None:
            terminalreporter.write_sep(
                "!", f"smokeproof: could not write the reports ({self.write_error}): this run left no complete record", red=True
            )
        table = getattr(self, "table", None)
        if table:
            terminalreporter.write_sep("=", "smokeproof verification table")
            for line in table:
                terminalreporter.write_line(line)
            terminalreporter.write_line(f"(also in {self.reports / 'summary.md'})")
