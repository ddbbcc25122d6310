"""``smokeproof report DIR...``: the results of several environments as one report and one summary.

A CI matrix runs one job per environment; each uploads its ``reports/`` folder. The last job
downloads them all and merges them: one single-file HTML report in which each environment is its
own group (the results carry a ``smokeproof_environment`` label), and one ``summary.md`` that
opens with a line per environment, then each environment's own table with its change column.
Without this, a reviewer opens N artifacts, and one red environment among green ones is missed.

Shards (``--shard=K/N``) of one environment are joined first into that environment's one run: its
rows in the unsharded run's order (each shard's rows carry their place in the collection), the
change column computed here against the target's history in the merge's reports folder, and that
history written here, once per target (a shard writes none).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smokeproof.reporting import summary
from smokeproof.reporting.allure_identity import ENVIRONMENT_LABEL

ROW_FIELDS = frozenset(field.name for field in dataclasses.fields(summary.Row))
SHARD = "shard"  # the header key of a shard's run: "K of N"
TENANTS = "tenant databases"  # the header key that says how many tenant databases, at which revisions
HISTORY = "last-run.json"  # as the plugin names it: reports/history/<target>/last-run.json


class MergeError(Exception):
    """A folder that holds no results, or a summary that cannot be read."""


@dataclass(frozen=True)
class Source:
    """One environment's run, as its job left it."""

    folder: Path
    results: tuple[Path, ...]  # the allure-results folder (a folder per shard once shards are joined)
    header: dict[str, str]
    rows: list[summary.Row]
    changes: list[str]
    positions: list[int] = dataclasses.field(default_factory=list)  # a shard's: each row's place in the collection
    tenants: dict[str, str | None] | None = None  # a shard's: each tenant database's revisions (None: not read there)

    @property
    def environment(self) -> str:
        return self.header.get("environment", self.folder.name)

    @property
    def failing(self) -> int:
        return sum(1 for r in self.rows if not r.ok)


def find(folder: Path) -> Source:
    """A reports folder (with ``allure-results/`` and ``summary.json``), or an ``allure-results`` folder."""
    if (folder / "allure-results").is_dir():
        reports, results = folder, folder / "allure-results"
    elif folder.is_dir() and any(folder.glob("*-result.json")):
        reports, results = folder.parent, folder
    else:
        raise MergeError(f"{folder}: no Allure results (neither {folder / 'allure-results'} nor *-result.json files)")
    if not any(results.glob("*-result.json")):
        raise MergeError(f"{results}: the folder holds no *-result.json: did the run in this job start at all?")
    record = reports / "summary.json"
    try:
        data: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
        rows = [summary.Row(**{k: v for k, v in item.items() if k in ROW_FIELDS}) for item in data["rows"]]
        changes = [str(item.get("change", "")) for item in data["rows"]]
        positions = [int(item.get("position", -1)) for item in data["rows"]]
        header = {str(k): str(v) for k, v in data["header"].items()}
        tenants = data.get("tenants")
        if tenants is not None:
            tenants = {str(name): None if revisions is None else str(revisions) for name, revisions in tenants.items()}
    except FileNotFoundError:
        raise MergeError(f"{record}: missing (written by every run since smokeproof wrote summary.json)") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MergeError(f"{record}: unreadable ({exc.__class__.__name__}: {exc})") from None
    return Source(
        folder=folder, results=(results,), header=header, rows=rows, changes=changes, positions=positions, tenants=tenants
    )


def join_shards(sources: list[Source], reports: Path) -> list[Source]:
    """Each environment's shards as one source (in the place of its first shard); the history written once per target."""
    joined: list[Source | tuple[str, str]] = []
    shards: dict[tuple[str, str], list[Source]] = {}
    for source in sources:
        if SHARD not in source.header:
            joined.append(source)
            continue
        key = (source.environment, source.header.get("target", source.environment))
        if key not in shards:
            shards[key] = []
            joined.append(key)
        shards[key].append(source)
    return [item if isinstance(item, Source) else _join(shards[item], reports) for item in joined]


def _join(parts: list[Source], reports: Path) -> Source:
    numbers: dict[int, Source] = {}
    counts: set[int] = set()
    for part in parts:
        number, _, total = part.header[SHARD].partition(" of ")
        if not (number.isdigit() and total.isdigit()):
            raise MergeError(f"{part.folder}: summary.json's shard {part.header[SHARD]!r} is not 'K of N'")
        if int(number) in numbers:
            raise MergeError(f"{part.folder} and {numbers[int(number)].folder}: both are shard {part.header[SHARD]}")
        numbers[int(number)] = part
        counts.add(int(total))
    if len(counts) != 1:
        raise MergeError(f"{', '.join(str(p.folder) for p in parts)}: shards of different splits ({sorted(counts)} shards)")
    [count] = counts
    missing = [str(n) for n in range(1, count + 1) if n not in numbers]
    placed = sorted(
        ((place, row) for part in parts for place, row in zip(part.positions, part.rows, strict=True)), key=lambda pr: pr[0]
    )
    rows = [row for _, row in placed]
    ordered = [numbers[number] for number in sorted(numbers)]
    header: dict[str, str] = {}
    for part in ordered:
        for key, value in part.header.items():
            header.setdefault(key, value)
    header.pop(SHARD)
    if TENANTS in header:
        header[TENANTS] = _tenants_line(ordered)
    header["run at"] = min(part.header.get("run at", "") for part in parts)
    header["shards"] = f"{len(parts)} of {count} merged" + (f" (missing: {', '.join(missing)})" if missing else "")
    target = header.get("target", header.get("environment", "?"))
    history = reports / "history" / summary.folder_name(target) / HISTORY
    before = summary.load_previous(history)
    changes = [summary.change(row, before) for row in rows]
    summary.save(history, [*{**before, **{row.check: row for row in rows}}.values()], header)
    results = tuple(path for part in ordered for path in part.results)
    return Source(folder=ordered[0].folder, results=results, header=header, rows=rows, changes=changes)


def _tenants_line(parts: list[Source]) -> str:
    """The unsharded run's tenant line: every tenant's revisions, from the shard that read it, in the environment's order.

    Shards written before they recorded their tenants' revisions: each shard's own line, joined.
    """
    if any(part.tenants is None for part in parts):
        lines = [part.header[TENANTS] for part in parts if TENANTS in part.header]
        return " | ".join(dict.fromkeys(lines))
    revisions: dict[str, str | None] = {}
    for part in parts:
        for name, read in (part.tenants or {}).items():
            if revisions.get(name) is None:
                revisions[name] = read
    return summary.tenant_line(list(revisions), revisions)


def combined_summary(sources: list[Source]) -> str:
    """One ``summary.md``: a line per environment, then each environment's table."""
    failing = [s for s in sources if s.failing]
    verdict = f"❌ **{len(failing)} of {len(sources)} environments not healthy**" if failing else "✅ **all healthy**"
    plural = "environment" if len(sources) == 1 else "environments"
    lines = [f"# smokeproof: {len(sources)} {plural} {verdict}", ""]
    lines += ["| environment | target | checks | failing | status |", "| --- | --- | --- | --- | --- |"]
    for s in sources:
        status = "❌ FAIL" if s.failing else "✅ pass"
        target = s.header.get("target", s.environment)
        lines.append(f"| {s.environment} | {target} | {len(s.rows)} | {s.failing} | {status} |")
    parts = ["\n".join(lines) + "\n"]
    parts += ["#" + summary.section(s.rows, s.changes, s.header) for s in sources]  # ## -> ###: under the title
    return "\n".join(parts)


def allure_config_module(settings: dict[str, object], environments: list[str]) -> str:
    """Allure 3's config as an ES module, with one Allure environment per smokeproof environment.

    Allure 3 keeps one result per history id and environment: without environments, two
    environments of one target (same history ids) would fold into one line. Each environment's
    results are matched by their ``smokeproof_environment`` label. Names are JSON string
    literals, which JavaScript reads as they are.
    """
    entries = []
    for number, environment in enumerate(environments, start=1):
        ident = re.sub(r"[^A-Za-z0-9_-]", "_", environment)[:56] + f"-{number}"
        label, value = json.dumps(ENVIRONMENT_LABEL), json.dumps(environment)
        matcher = f"({{ labels }}) => labels.some((l) => l.name === {label} && l.value === {value})"
        entries.append(f"  {json.dumps(ident)}: {{ name: {json.dumps(environment)}, matcher: {matcher} }},")
    return "\n".join(
        [
            "const config = " + json.dumps(settings, indent=1) + ";",
            "config.environments = {",
            *entries,
            "};",
            "export default config;",
            "",
        ]
    )
