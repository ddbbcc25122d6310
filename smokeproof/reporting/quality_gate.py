"""Allure 3's quality gate in the single-file report, with the same outcome as the run's exit status.

What QA reads and what CI decided must never disagree. The run decides: a failure that no known
issue excuses exits 1 (a known issue's failure does not, a degraded check does not unless
``--fail-on-degraded`` failed it); a run in which no check ran exits 5 (unless ``--allow-empty``).
The gate says the same in Allure's terms, evaluated by Allure on the results:

- ``maxFailures: 0``: Allure counts failed and broken results, and leaves out those marked known
  (``statusDetails.known``, Allure 3's "accepted" resolution), as the run does;
- ``minTestsCount``: results that are not skipped (and not known), at least 1, as the run's "a
  run in which no check ran proves nothing"; 0 where the run accepts it (``--allow-empty``, or
  every check that ran was a known issue).

The run writes the gate into ``reports/summary.json``; ``smokeproof report`` puts it in the Allure
config and runs :data:`GENERATE_SCRIPT`: Allure 3's own ``generate`` with the gate evaluated the
way its ``allure log`` / ``allure run`` do it (``allure generate`` alone leaves the report's gate
empty), and the results kept in the report (``quality-gate.json`` beside ``index.html``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

RAN = ("passed", "failed", "error", "degraded")  # outcomes Allure counts towards minTestsCount (not skipped, not known)
GATE_FILE = "quality-gate.json"  # in the report folder: Allure's evaluated rules

# Arguments: Allure's core module (index.js), the config file, the output folder, the results folders.
# The rule with minTestsCount counts what the run counts as a check that ran: not the skipped results.
GENERATE_SCRIPT = """\
// Written by `smokeproof report`: Allure 3's generate, with the quality gate evaluated into the report.
import { pathToFileURL } from "node:url";

// Allure's quality gate calls Iterator.prototype.toArray (Node.js 22); on Node.js 20 it is added here.
const iterators = Object.getPrototypeOf(Object.getPrototypeOf([].values()));
if (!iterators.toArray) {
  Object.defineProperty(iterators, "toArray", { value() { return Array.from(this); }, configurable: true, writable: true });
}

const [core, configFile, output, ...results] = process.argv.slice(2);
const allure = await import(pathToFileURL(core).href);
const config = await allure.readConfig(process.cwd(), configFile, { output });
for (const rules of config.qualityGate?.rules ?? []) {
  if ("minTestsCount" in rules) rules.filter = (tr) => tr.status !== "skipped";
}
const report = new allure.AllureReport(config);
await report.start();
for (const folder of results) await report.readDirectory(folder);
let gate = [];
if (report.hasQualityGate) {
  const trs = await report.store.allTestResults({ includeRetries: false });
  gate = (await report.validate({ trs })).results;
  if (gate.length) report.realtimeDispatcher.sendQualityGateResults(gate);
}
await report.done();
const rules = gate.map(({ rule, success, actual, expected }) => ({ rule, success, actual, expected }));
console.log(JSON.stringify({ passed: rules.every((r) => r.success), rules }));
"""


def gate(outcomes: Iterable[str], *, allow_empty: bool) -> dict[str, int]:
    """The rules that give the run's exit status, from its rows' outcomes."""
    outcomes = list(outcomes)
    ran = any(outcome in RAN for outcome in outcomes)
    only_known = not ran and "known" in outcomes
    return {"maxFailures": 0, "minTestsCount": 0 if allow_empty or only_known else 1}


def read(summaries: Iterable[Path]) -> dict[str, int]:
    """The gate the runs behind these ``summary.json`` files decided (the default where one says nothing)."""
    minimum = 0
    found = False
    for path in summaries:
        try:
            recorded = json.loads(path.read_text(encoding="utf-8")).get("gate")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if isinstance(recorded, Mapping):
            found = True
            minimum = max(minimum, int(recorded.get("minTestsCount", 1)))
    return {"maxFailures": 0, "minTestsCount": minimum if found else 1}


def config(rules: Mapping[str, int]) -> dict[str, object]:
    """Allure 3's ``qualityGate`` setting for these rules (one rule set per rule: each reported on its own)."""
    return {"rules": [{name: value} for name, value in rules.items()]}


def describe(outcome: Mapping[str, object]) -> str:
    """One line for the terminal: ``quality gate: passed (maxFailures 0/0, minTestsCount 12/1)``."""
    found = outcome.get("rules")
    rules = found if isinstance(found, list) else []
    parts = [f"{r.get('rule')} {r.get('actual')}/{r.get('expected')}" for r in rules if isinstance(r, Mapping)]
    word = "passed" if outcome.get("passed") else "FAILED"
    return f"quality gate: {word} ({', '.join(parts) or 'no rules'})"
