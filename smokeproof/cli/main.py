"""``smokeproof report`` (the single-file HTML report), ``snapshot`` (the catalog), ``baseline`` (:mod:`.baseline`)
and ``init`` (a suite for a running service, :mod:`.init`).

``report`` runs Allure 3 (npm package ``allure``, pinned by package.json and its lockfile) over
``reports/allure-results`` and writes ``reports/allure-report/index.html``: one file that opens
from disk, with history kept in ``reports/history`` so the next report shows the trend. Allure 3
embeds a Google Tag Manager snippet it cannot be told to leave out; it is removed, and the file
checked, so the report QA opens calls no third party.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from smokeproof.reporting import quality_gate
from smokeproof.reporting.allure_identity import ENVIRONMENT_LABEL
from smokeproof.reporting.allure_labels import CATEGORY_LABEL
from smokeproof.verdict import Category

TRACKERS = re.compile(
    r"<script[^>]*googletagmanager[^>]*>\s*</script>\s*|<script>(?:(?!</script>).)*gtag\((?:(?!</script>).)*</script>\s*",
    re.DOTALL,
)
THIRD_PARTY = ("googletagmanager", "google-analytics", "gtag(")
NPM_HINT = "install Node.js 18+ and npm (Debian: apt-get install nodejs npm; or https://nodejs.org)"


class ReportError(Exception):
    pass


def project_root(start: Path) -> Path:
    """The nearest folder with the package.json that pins Allure (the repo root)."""
    for folder in (start, *start.parents):
        if (folder / "package.json").is_file() and "allure" in (folder / "package.json").read_text():
            return folder
    raise ReportError(f"no package.json pinning Allure found from {start} upwards")


def allure_binary(root: Path) -> Path:
    binary = root / "node_modules" / ".bin" / "allure"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ReportError(f"Node.js is needed for the HTML report: {NPM_HINT}")
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    print(f"smokeproof: installing the pinned Allure 3 ({' '.join(command)})", file=sys.stderr)
    done = subprocess.run(command, cwd=root, check=False, timeout=600)
    if done.returncode != 0 or not binary.exists():
        raise ReportError("npm ci failed: the pinned Allure 3 could not be installed")
    return binary


def allure_config(
    reports: Path, name: str, *, by_environment: bool = False, gate: dict[str, int] | None = None
) -> dict[str, object]:
    group_by = ["epic", "feature"]
    if by_environment:  # a merged report: each environment its own group
        group_by.insert(0, ENVIRONMENT_LABEL)
    return {
        "name": name,
        "output": str(reports / "allure-report"),
        "historyPath": str(reports / "history" / "allure-history.jsonl"),
        "plugins": {"awesome": {"options": {"singleFile": True, "reportName": name, "groupBy": group_by}}},
        "categories": {
            "rules": [
                {"name": c.value, "matchers": {"statuses": ["failed"], "labels": {CATEGORY_LABEL: f"^{re.escape(c.value)}$"}}}
                for c in Category
            ]
        },
        "qualityGate": quality_gate.config(gate or {"maxFailures": 0, "minTestsCount": 1}),
    }


def _gate_line(stdout: str) -> str:
    """The quality gate's outcome, from the generate script's last line."""
    lines = stdout.strip().splitlines()
    try:
        outcome = json.loads(lines[-1]) if lines else {}
    except ValueError:
        outcome = {}
    return f"smokeproof: {quality_gate.describe(outcome)}" if outcome else "smokeproof: quality gate: not evaluated"


def strip_trackers(html: str) -> str:
    """The report without Allure 3's Google Tag Manager snippet."""
    return TRACKERS.sub("", html)


def report(reports: Path, *, name: str = "smokeproof", merged: Mapping[str, tuple[Path, ...]] | None = None) -> Path:
    """The single-file report of ``reports/allure-results``, or of the ``merged`` results folders by environment."""
    from smokeproof.reporting import merge

    results = [folder for folders in merged.values() for folder in folders] if merged else [reports / "allure-results"]
    if not merged and (not results[0].is_dir() or not any(results[0].glob("*-result.json"))):
        raise ReportError(f"no Allure results in {results[0]}: run the suite first (pytest --env=NAME)")
    root = project_root(Path.cwd().resolve())
    binary = allure_binary(root)
    (reports / "history").mkdir(parents=True, exist_ok=True)
    summaries = [folder.parent / "summary.json" for folder in results]
    settings = allure_config(reports, name, by_environment=bool(merged), gate=quality_gate.read(summaries))
    if merged:  # Allure 3's environments take a matcher function: a JavaScript config
        config = reports / "allurerc.mjs"
        config.write_text(merge.allure_config_module(settings, list(merged)))
    else:
        config = reports / "allurerc.json"
        config.write_text(json.dumps(settings, indent=1))
    output = reports / "allure-report"
    shutil.rmtree(output, ignore_errors=True)
    script = reports / "allure-generate.mjs"  # Allure's generate, with the quality gate kept in the report
    script.write_text(quality_gate.GENERATE_SCRIPT)
    core = binary.parent.parent / "@allurereport" / "core" / "dist" / "index.js"
    node = shutil.which("node") or "node"
    done = subprocess.run(
        [node, str(script), str(core), str(config), str(output), *map(str, results)],
        cwd=root,
        check=False,
        timeout=600,
        capture_output=True,
        text=True,
    )
    index = output / "index.html"
    if done.returncode != 0 or not index.exists():
        raise ReportError(f"allure generate failed ({done.returncode}):\n{done.stderr[-2000:]}")
    print(_gate_line(done.stdout))
    html = strip_trackers(index.read_text(encoding="utf-8"))
    left = [marker for marker in THIRD_PARTY if marker in html]
    if left:
        raise ReportError(f"the report still references a third party ({', '.join(left)}); not publishing it")
    index.write_text(html, encoding="utf-8")
    return index


def merge_command(folders: list[Path], reports: Path, name: str) -> Path:
    """Merge several environments' (or one environment's shards') reports folders into ``reports``: summary.md, then the HTML."""
    from smokeproof.reporting import merge

    reports.mkdir(parents=True, exist_ok=True)
    try:
        found = [merge.find(folder.resolve()) for folder in folders]
        sources = merge.join_shards(found, reports)  # writes each sharded target's history, once
    except merge.MergeError as exc:
        raise ReportError(str(exc)) from None
    (reports / "summary.md").write_text(merge.combined_summary(sources), encoding="utf-8")
    print(f"smokeproof: {len(found)} reports folders ({len(sources)} environments) merged into {reports / 'summary.md'}")
    return report(reports, name=name, merged={s.environment: s.results for s in sources})


def snapshot_command(args: argparse.Namespace) -> int:
    from smokeproof.cli.environments import load_environment, read_database
    from smokeproof.database import schema_toml

    env = load_environment(name=args.env, file=args.env_file)
    snap = read_database(env)
    revision = ", ".join(snap.alembic_revisions) if snap.alembic_revisions else "(no alembic_version table)"
    if args.format == "toml":
        header = f"Schema contract of {env.masked_database_url()} (environment {env.name}), Alembic revision {revision}.\n"
        header += "Written by smokeproof snapshot --format toml: keep what the deployed code needs, delete the rest."
        print(schema_toml.render(snap, schemas=env.database.schemas, header=env.redactor(header)), end="")
        return 0
    print(f"PostgreSQL {snap.server_version}; alembic_version: {revision}; {snap.round_trips} statements")
    for (schema, table), info in sorted(snap.tables.items()):
        print(f"table {schema}.{table}: " + ", ".join(f"{c.name} {c.type}" for c in info.columns.values()))
    for (schema, enum), enum_type in sorted(snap.enums.items()):
        print(f"enum {schema}.{enum}: {', '.join(enum_type.labels)}")
    for (schema, index), idx in sorted(snap.indexes.items()):
        print(f"index {schema}.{index} on {idx.table} ({', '.join(idx.columns)}){' unique' if idx.unique else ''}")
    for key in sorted(snap.foreign_keys, key=lambda k: (k.schema, k.table, k.name)):
        print(
            f"foreign key {key.schema}.{key.table}({', '.join(key.columns)}) -> "
            f"{key.ref_schema}.{key.ref_table}({', '.join(key.ref_columns)}) [{key.name}]"
        )
    sec = snap.security
    for (schema, table), rel in sorted(sec.relations.items()):
        if rel.rls:
            print(f"row security on {schema}.{table}{' (forced)' if rel.force_rls else ''}")
    for policies in (sorted(sec.policies[key], key=lambda p: p.name) for key in sorted(sec.policies)):
        print("\n".join(f"policy {p.name} on {p.schema}.{p.table} for {p.command} to {', '.join(p.roles)}" for p in policies))
    for triggers in (sorted(sec.triggers[key], key=lambda t: t.name) for key in sorted(sec.triggers)):
        print("\n".join(f"trigger {t.name} on {t.schema}.{t.table} ({t.enabled})" for t in triggers))
    for signature, routine in sorted(sec.routines.items()):
        print(f"{routine.kind} {signature}{' SECURITY DEFINER' if routine.security_definer else ''}")
    for (schema, name), domain in sorted(sec.domains.items()):
        print(f"domain {schema}.{name}: {domain.type}{' NOT NULL' if domain.not_null else ''}")
    for (schema, name), composite in sorted(sec.types.items()):
        print(f"type {schema}.{name}: {', '.join(composite.attributes)}")
    if sec.unreadable:
        print(f"cannot be read (permission): {', '.join(sorted(sec.unreadable))}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The ``smokeproof`` command and its subcommands."""
    top = argparse.ArgumentParser(prog="smokeproof", description="post-deploy contract checks: reports, catalog, scaffolding")
    commands = top.add_subparsers(dest="command", required=True)
    rep = commands.add_parser(
        "report", help="build the single-file HTML report from reports/allure-results, or merge several reports folders"
    )
    rep.add_argument(
        "folders", nargs="*", type=Path, metavar="DIR", help="reports folders of several environments to merge (CI matrix)"
    )
    rep.add_argument("--reports", type=Path, default=Path("reports"), help="the reports folder (default: reports)")
    rep.add_argument("--name", default="smokeproof", help="report name")
    snap = commands.add_parser("snapshot", help="print the database catalog an environment points at (read-only)")
    snap.add_argument("--env", help="environment name (environments/NAME.toml)")
    snap.add_argument("--env-file", help="environment file")
    snap.add_argument(
        "--format", choices=("text", "toml"), default="text", help="text (default) or toml: a schema.toml the database passes"
    )
    from smokeproof.cli import baseline, init

    baseline.add_parser(commands)
    init.add_parser(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; bad input is exit 4 with one line, a target or database that cannot be read exit 1
    with one line, never a traceback."""
    args = parser().parse_args(argv)
    from smokeproof.errors import EXIT_USAGE, TargetError, TargetUnreachable, UsageError

    try:
        return _dispatch(args)
    except ReportError as exc:
        print(f"smokeproof report: {exc}", file=sys.stderr)
        kept = "the folders given are unchanged" if args.folders else "the results and reports/summary.md are unchanged"
        print(f"smokeproof report: {kept}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except TargetError as exc:  # unreachable, or a database that answered but could not be read: one line, exit 1
        text = str(exc) or exc.__class__.__name__
        if isinstance(exc, TargetUnreachable) and not text.startswith("target unreachable"):
            text = f"target unreachable: {text}"
        print(f"smokeproof {args.command}: {text}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    from smokeproof.cli import baseline, init

    if args.command == "snapshot":
        return snapshot_command(args)
    if args.command == "baseline":
        return baseline.command(args)
    if args.command == "init":
        return init.run(args)
    if args.folders:
        index = merge_command(args.folders, args.reports.resolve(), args.name)
    else:
        index = report(args.reports.resolve(), name=args.name)
    print(f"smokeproof: report written to {index} (open it from disk)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
