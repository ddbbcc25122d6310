"""``smokeproof report DIR...``: the results of several environments as one report and one summary.

A CI matrix runs one job per environment; each uploads its ``reports/`` folder. The last job
downloads them all and merges them: one single-file HTML report in which each environment is its
own group (the results carry a ``smokeproof_environment`` label), and one ``summary.md`` that
opens with a line per environment, then each environment's own table with its change column.
Without this, a reviewer opens N artifacts, and one red environment among green ones is missed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smokeproof.reporting import summary
from smokeproof.reporting.allure_identity import ENVIRONMENT_LABEL


class MergeError(Exception):
    """A folder that holds no results, or a summary that cannot be read."""


@dataclass(frozen=True)
class Source:
    """One environment's run, as its job left it."""

    folder: Path
    results: Path  # the allure-results folder
    header: dict[str, str]
    rows: list[summary.Row]
    changes: list[str]

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
        rows = [summary.Row(**{k: v for k, v in item.items() if k != "change"}) for item in data["rows"]]
        changes = [str(item.get("change", "")) for item in data["rows"]]
        header = {str(k): str(v) for k, v in data["header"].items()}
    except FileNotFoundError:
        raise MergeError(f"{record}: missing (written by every run since smokeproof wrote summary.json)") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MergeError(f"{record}: unreadable ({exc.__class__.__name__}: {exc})") from None
    return Source(folder=folder, results=results, header=header, rows=rows, changes=changes)


def combined_summary(sources: list[Source]) -> str:
    """One ``summary.md``: a line per environment, then each environment's table."""
    failing = [s for s in sources if s.failing]
    verdict = f"❌ **{len(failing)} of {len(sources)} environments not healthy**" if failing else "✅ **all healthy**"
    lines = [f"# smokeproof: {len(sources)} environments {verdict}", ""]
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
