"""The reporting side of a run, as a pytest plugin: collects verdicts, writes the summary and Allure's side files."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from smokeproof.database import tenants
from smokeproof.database.revision_source import describe_source
from smokeproof.pytest_plugin import known, shards, waiting, xdist
from smokeproof.pytest_plugin.activation import FAULT_KEY, PARAMETERS
from smokeproof.reporting import allure_identity, junit, quality_gate, summary
from smokeproof.verdict import Category, Verdict

if TYPE_CHECKING:  # the Allure writer loads when a run writes Allure results (not for --collect-only)
    from smokeproof.pytest_plugin.session import SmokeSession
    from smokeproof.reporting import allure_writer

HISTORY = "last-run.json"  # in reports/history/<target>/: a run compares itself with its own target only
REASON_CHARS = 160  # of a skip reason or an error, in the verification table's "actual" column
ROW = "smokeproof_row"  # the report's attribute that carries its row (and its place) to the reports' owner


def history_file(reports: Path, target: str) -> Path:
    """Where the previous run against ``target`` left its rows."""
    return reports / "history" / summary.folder_name(target) / HISTORY


class ReportingPlugin:
    """Registered at configure and unregistered at unconfigure by :mod:`smokeproof.pytest_plugin.hooks`; one per run."""

    def __init__(self, config: pytest.Config, session: SmokeSession, verdicts: pytest.StashKey[Verdict]) -> None:
        self.config = config
        self.session = session
        self.verdict_key = verdicts
        self.rows: dict[str, summary.Row] = {}
        self.positions: dict[str, int] = {}  # node id -> place in the collection: rows from workers come in any order
        self.reports = Path(config.rootpath) / "reports"
        self.started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        self.writer: allure_writer.ThreadedFileLogger | None = None
        self.write_error: str | None = None
        self.table: list[str] = []

    def pytest_sessionstart(self) -> None:
        """Put the threaded Allure writer in place before the first result is written."""
        if not self.config.getoption("collectonly") and getattr(self.config.option, "allure_report_dir", None):
            from smokeproof.reporting import allure_writer

            self.writer = allure_writer.install(self.config, PARAMETERS, self.session.env.redactor)
        env = self.session.env
        junit.name_suite(self.config, environment=env.name, target=env.target)

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after allure-pytest has set its own history id
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        yield
        env = self.session.env
        params = getattr(getattr(item, "callspec", None), "params", {})
        allure_identity.stamp(self.config, item, target=env.target, environment=env.name, database=tenants.database_of(params))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Put each check's row (its verdict, or why it did not run) on its report: it travels with it under xdist."""
        report = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            state = self.config.stash.get(shards.SHARD_KEY, None)
            place = state.positions.get(item, -1) if state is not None else -1
            setattr(report, ROW, (vars(self._row(item, report)), place))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep each check's row for the verification table (here, or on the controller from every worker)."""
        carried = getattr(report, ROW, None)
        if carried is not None:
            row, self.positions[report.nodeid] = carried
            self.rows[report.nodeid] = summary.Row(**row)
        ran = report.when == "call" and (report.outcome in ("passed", "failed") or hasattr(report, "wasxfail"))
        if ran or (report.when == "setup" and report.outcome == "failed"):
            self.session.ran.append(report.nodeid)  # a run in which no check ran proves nothing

    def _row(self, item: pytest.Item, report: pytest.TestReport) -> summary.Row:
        """The check's row, with the tenant database it ran on (the summary groups by it)."""
        params = getattr(getattr(item, "callspec", None), "params", {})
        return dataclasses.replace(self._outcome(item, report), database=tenants.database_of(params) or "")

    def _outcome(self, item: pytest.Item, report: pytest.TestReport) -> summary.Row:
        verdict = item.stash.get(self.verdict_key, None)
        callspec = getattr(item, "callspec", None)
        check = callspec.id if callspec is not None and "database" not in callspec.params else item.name
        if verdict is not None and report.when == "call":
            outcome = "passed" if report.passed else "failed"
            if hasattr(report, known.KNOWN):  # a known issue's failure (an xfail)
                outcome = "known"
            elif report.passed and verdict.degraded:
                outcome = "degraded"
            category = verdict.category or (verdict.degraded_category if verdict.degraded and report.failed else None)
            return summary.Row(
                verdict.check,
                verdict.expected,
                verdict.actual,
                outcome,
                category.value if category else "",
                note=known.row_note(report),
            )
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            fault = Category.MISSING_SCHEMA.value if item.stash.get(FAULT_KEY, False) else ""  # the run is not healthy
            return summary.Row(check, "-", reason.removeprefix("Skipped: ")[:REASON_CHARS], "skipped", fault)
        if report.failed:
            first = str(report.longrepr).strip().splitlines()
            return summary.Row(
                check, "-", first[-1][:REASON_CHARS] if first else "error", "failed" if report.when == "call" else "error"
            )
        return summary.Row(check, "-", "passed", "passed")

    def _facts(self) -> dict[str, Any]:
        """What the run read (the server, the revisions, each tenant's): every worker's on an xdist controller."""
        return xdist.workers_facts(self.config) if xdist.is_controller(self.config) else self.session.facts()

    def _header(self, facts: dict[str, Any]) -> dict[str, str]:
        env = self.session.env
        header = {
            "environment": env.name,
            "target": env.target,
            "base URL": env.redactor(env.base_url or "(none)"),
            "production": "yes" if env.production else "no",
            "expected revision from": describe_source(env, self.session.settings.expected_override),
            "database": env.masked_database_url(),
            "run at": self.started,
        }
        header.update(facts["header"])
        if env.databases:
            header["tenant databases"] = summary.tenant_line(list(env.databases), facts["tenants"])
        drifts = self.session.settings.drift
        if drifts and drifts[0].settings.note:
            header["drift baseline"] = drifts[0].settings.note
        shard = shards.current(self.config)
        if shard is not None:
            header["shard"] = str(shard)
        deploy = waiting.summary(self.config)
        if deploy is not None:
            header["rolling deploy"] = deploy
        return header

    @pytest.hookimpl(trylast=True)  # after session fixtures are torn down: their Allure containers are queued
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the summary, the history and Allure's side files; wait for the Allure writer (exit 3 if it failed
        in a run that would otherwise pass)."""
        results = getattr(self.config.option, "allure_report_dir", None)
        try:
            self._write_reports(results)
        except OSError as exc:
            self.write_error = f"{exc.strerror or exc.__class__.__name__}: {exc.filename or self.reports}"
        if self.writer is not None:
            self.write_error = self.writer.flush() or self.write_error
        if self.write_error is not None and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR  # never hides a broken contract (1), nor 2, 4 or 5

    def _write_reports(self, results: str | None) -> None:
        if not self.rows or self.config.getoption("collectonly") or xdist.is_worker(self.config):
            return  # a worker's rows went to the controller with its reports
        redact = self.session.env.redactor
        facts = self._facts()
        header = {key: redact(value) for key, value in self._header(facts).items()}  # the history file keeps it too
        sharded = shards.current(self.config) is not None
        history = history_file(self.reports, self.session.env.target)
        before = {} if sharded else summary.load_previous(history)  # a shard's change column is the merge's
        nodeids = sorted(self.rows, key=lambda nodeid: self.positions.get(nodeid, -1))  # the collection's order
        # Redacted cell by cell: the history file is written from the rows, not from the redacted text.
        rows = [
            dataclasses.replace(r, check=redact(r.check), expected=redact(r.expected), actual=redact(r.actual))
            for r in (self.rows[nodeid] for nodeid in nodeids)
        ]
        text = redact(summary.markdown(rows, before, header))
        self.reports.mkdir(parents=True, exist_ok=True)
        (self.reports / "summary.md").write_text(text, encoding="utf-8")
        positions = [self.positions.get(nodeid, -1) for nodeid in nodeids] if sharded else None
        gate = quality_gate.gate((r.outcome for r in rows), allow_empty=self.session.settings.allow_empty)
        databases = self.session.env.databases
        revisions = {name: facts["tenants"].get(name) for name in databases} if sharded and databases else None
        record = summary.run_record(rows, before, header, gate, positions=positions, tenants=revisions)
        (self.reports / "summary.json").write_text(redact(record), encoding="utf-8")
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        self.table = [redact(line) for line in summary.terminal(rows, before)]
        if not sharded:  # a shard's history is written once for all shards, by smokeproof report DIR...
            # Checks not run this time (-m, -k) keep their last known state for the next comparison.
            summary.save(history, [*{**before, **{r.check: r for r in rows}}.values()], header)
        if results:
            from smokeproof.reporting import allure_files

            allure_files.write(Path(results), header, redact)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the verification table at the end of the run (or why the reports could not be written)."""
        if self.write_error is not None:
            terminalreporter.write_sep(
                "!", f"smokeproof: could not write the reports ({self.write_error}): this run left no complete record", red=True
            )
        table = self.table
        if table:
            terminalreporter.write_sep("=", "smokeproof verification table")
            for line in table:
                terminalreporter.write_line(line)
            terminalreporter.write_line(f"(also in {self.reports / 'summary.md'})")
