"""The verification table: check, expected, actual, status, and what changed since the last run.

Like the incident report's table ("/api/v1/auth/me | 500 | 401 | FIXED"), written to
``reports/summary.md``, printed at the end of the run, appended to ``$GITHUB_STEP_SUMMARY`` when
set. The previous run's rows are kept per target, in ``reports/history/<target>/last-run.json``, so
the next run against the same target can say ``500 -> 401 fixed`` or ``new failure`` and a run
against another target in the same folder never compares itself with this one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

STATUS_ICON = {
    "passed": "✅ pass",
    "failed": "❌ FAIL",
    "skipped": "⏭ skip",
    "error": "💥 ERROR",
    "known": "🟡 known",
    "degraded": "🟠 degraded",
}
PASSING = ("passed", "skipped", "known", "degraded")  # outcomes that do not fail the run


@dataclass(frozen=True)
class Row:
    check: str
    expected: str
    actual: str
    outcome: str  # passed | failed | skipped | error | known (a known issue's failure) | degraded
    category: str = ""
    database: str = ""  # the tenant database the check ran on ("": the environment's own, or none)
    note: str = ""  # after the status: a known issue's ticket, "fixed: remove the known-issue entry", an expiry

    @property
    def ok(self) -> bool:
        """Healthy: a passing outcome, but a skip with a category (skipped for a fault of the target) is not."""
        return self.outcome in PASSING and not (self.outcome == "skipped" and self.category)

    @property
    def failing(self) -> bool:
        return self.outcome not in PASSING

    def status(self, *, icons: bool = True) -> str:
        """``🟡 known (OPS-412)``, ``✅ pass, fixed: remove the known-issue entry (OPS-412)``; plain for the terminal."""
        word = STATUS_ICON.get(self.outcome, self.outcome) if icons else self.outcome.upper()
        if not self.note:
            return word
        return f"{word} {self.note}" if self.note.startswith("(") else f"{word}, {self.note}"


def short_actual(actual: str) -> str:
    """``500 in 84 ms`` -> ``500``: the part worth comparing across runs."""
    text = actual.split(" in ")[0].strip()
    return text if len(text) <= 30 else text[:29] + "…"


def change(row: Row, before: Mapping[str, Row]) -> str:
    """What changed for ``row`` since the previous run (blank when nothing did)."""
    old = before.get(row.check)
    if old is None:
        return "new check" if before else ""
    was, now = short_actual(old.actual), short_actual(row.actual)
    # A known issue's failure is still a failure, a degraded pass still a pass, for what changed.
    old, row = _as_compared(old), _as_compared(row)
    if old.outcome == "failed" and row.outcome == "passed":
        return f"{was} -> {now} fixed" if was != now else "fixed"
    if old.outcome == "passed" and row.outcome == "failed":
        return f"{was} -> {now} new failure" if was != now else "new failure"
    if old.outcome == "failed" and row.outcome == "failed":
        return f"still failing ({was} -> {now})" if was != now else "still failing"
    return ""


def _as_compared(row: Row) -> Row:
    outcome = {"known": "failed", "degraded": "passed"}.get(row.outcome)
    return replace(row, outcome=outcome) if outcome else row


def folder_name(target: str) -> str:
    """``target`` as one safe folder name (an environment file's stem may hold anything)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", target).lstrip(".") or "_"


def load_previous(path: Path) -> dict[str, Row]:
    try:
        data = json.loads(path.read_text())
        return {item["check"]: Row(**item) for item in data["rows"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


# The JSON files hold a row per line: readable, and written by json's C encoder (``indent`` would
# switch to its pure-Python one, a tenth of a second at 1,500 checks).


def save(path: Path, rows: Iterable[Row], header: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_rows_json(header, [vars(r) for r in rows], ensure_ascii=True))


def tenant_line(names: list[str], revisions: Mapping[str, str | None]) -> str:
    """The header's tenant line: how many tenant databases, and at which Alembic revisions.

    ``revisions``: each database's, as :func:`smokeproof.database.tenants.revision_keys` gives them (None: not read).
    """
    shown = ", ".join(names[:10]) + (f", … ({len(names) - 10} more)" if len(names) > 10 else "")
    counts: dict[str, int] = {}
    for name in names:
        key = revisions.get(name) or "not read"
        counts[key] = counts.get(key, 0) + 1
    listed = "; ".join(f"{revision} ×{count}" for revision, count in counts.items())
    return f"{len(names)} tenant databases ({shown}); revisions: {listed}"


def run_record(
    rows: Iterable[Row],
    before: Mapping[str, Row],
    header: Mapping[str, str],
    gate: Mapping[str, int] | None = None,
    *,
    positions: list[int] | None = None,
    tenants: Mapping[str, str | None] | None = None,
) -> str:
    """This run as JSON (``reports/summary.json``): what ``smokeproof report DIR...`` merges, and the
    quality gate that gives the run's exit status (:mod:`smokeproof.reporting.quality_gate`).

    For a shard: ``positions``, each row's place in the whole collection (the merge reads the rows in that
    order); ``tenants``, each tenant database's revisions as read here (None: another shard's), from which the
    merge says what the unsharded run's header says of them.
    """
    records: list[dict[str, object]] = [{**vars(r), "change": change(r, before)} for r in rows]
    if positions is not None:
        records = [{**record, "position": place} for record, place in zip(records, positions, strict=True)]
    extras: dict[str, object] = {"gate": dict(gate)} if gate is not None else {}
    if tenants is not None:
        extras["tenants"] = dict(tenants)
    return _rows_json(header, records, ensure_ascii=False, extras=extras)


def _rows_json(
    header: Mapping[str, str], rows: list[dict[str, object]], *, ensure_ascii: bool, extras: Mapping[str, object] | None = None
) -> str:
    lines = [json.dumps(row, ensure_ascii=ensure_ascii) for row in rows]
    head = json.dumps(dict(header), ensure_ascii=ensure_ascii)
    extra = "".join(f',\n "{key}": {json.dumps(value, ensure_ascii=ensure_ascii)}' for key, value in (extras or {}).items())
    return '{"header": ' + head + extra + ',\n "rows": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[Row], before: Mapping[str, Row], header: Mapping[str, str]) -> str:
    return section(rows, [change(r, before) for r in rows], header)


def section(rows: list[Row], changes: list[str], header: Mapping[str, str]) -> str:
    """One environment's table, with its header; ``changes`` are the rows' change cells.

    Checks on tenant databases (``table public.users @ eu``) are grouped by database: a line per
    database, then the table of each database that fails or changed (a hundred healthy tenants
    are a hundred lines, not fifteen hundred).
    """
    failed = sum(1 for r in rows if r.failing)
    faults = sum(1 for r in rows if not r.ok and not r.failing)  # skipped: another check reports the fault
    verdict = "❌ **not healthy**" if failed or faults else "✅ **healthy**"
    lines = [f"## smokeproof: {header.get('environment', '?')} {verdict}", ""]
    lines += [f"- **{k}**: {_cell(v)}" for k, v in header.items()]
    skipped = f", {faults} skipped for a fault of the target" if faults else ""
    lines += ["", f"{len(rows)} checks, {failed} failing{skipped}.", *_passing_notes(rows), ""]
    groups: dict[str, list[tuple[Row, str]]] = {}
    for row, changed in zip(rows, changes, strict=True):
        groups.setdefault(row.database, []).append((row, changed))
    if "" in groups or len(groups) == 0:
        lines += _table(groups.get("", []))
    tenants = [(name, group) for name, group in groups.items() if name]
    if tenants:
        lines += ["", "### by database", "", "| database | checks | failing | status |", "| --- | --- | --- | --- |"]
        for name, group in tenants:
            failing = sum(1 for r, _ in group if r.failing)
            healthy = all(r.ok for r, _ in group)
            lines.append(f"| {_cell(name)} | {len(group)} | {failing} | {'✅ pass' if healthy else '❌ FAIL'} |")
        for name, group in tenants:
            failing = sum(1 for r, _ in group if r.failing)
            if failing or any(changed for _, changed in group):
                status = f"❌ {failing} of {len(group)} failing" if failing else "✅ changed"
                lines += ["", f"#### database {_cell(name)}: {status}", "", *_table(group)]
    return "\n".join(lines) + "\n"


def _passing_notes(rows: list[Row]) -> list[str]:
    """The lines under the count for what passes but needs a look: known issues, degraded checks."""
    notes = []
    known = [r for r in rows if r.outcome == "known"]
    if known:
        listed = ", ".join(f"{_cell(r.check)} {r.note}".strip() for r in known)
        notes.append(f"{len(known)} known issue{'s' * (len(known) != 1)} (failing, not failing the run): {listed}.")
    degraded = [r for r in rows if r.outcome == "degraded"]
    if degraded:
        listed = ", ".join(_cell(r.check) for r in degraded)
        notes.append(f"{len(degraded)} degraded (passing, close to failing; --fail-on-degraded fails them): {listed}.")
    return notes


def _table(rows: list[tuple[Row, str]]) -> list[str]:
    lines = ["| check | expected | actual | status | change |", "| --- | --- | --- | --- | --- |"]
    for r, changed in rows:
        lines.append(f"| {_cell(r.check)} | {_cell(r.expected)} | {_cell(r.actual)} | {_cell(r.status())} | {_cell(changed)} |")
    return lines


def terminal(rows: list[Row], before: Mapping[str, Row]) -> list[str]:
    """The table as plain, aligned text for the end of the terminal run."""
    table = [("check", "expected", "actual", "status", "change")]
    table += [(r.check, r.expected, r.actual, r.status(icons=False), change(r, before)) for r in rows]
    widths = [min(max(len(row[i]) for row in table), 60) for i in range(5)]

    def fit(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    return ["  ".join(fit(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
