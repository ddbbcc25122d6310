"""Drift: the live schema against a baseline, one verdict per object, every difference at once.

The baseline (:mod:`smokeproof.database.baseline`) is what the code's migrations build. Each
table, view, enum type, sequence, function or procedure, domain and composite type in it is one
check (``drift public.item``, ``drift function public.f(integer)``); the installed
extensions are one more; objects in the database the baseline lacks are one more ("extra
objects"). Pure functions: the caller hands over the live document (made once from the run's one
catalog snapshot) and the Alembic alignment, which decides the advice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal

from smokeproof.config.environment import DriftConfig
from smokeproof.database import drift_diff, drift_security
from smokeproof.database.alignment import Alignment, AlignmentState
from smokeproof.errors import Unavailable, UsageError
from smokeproof.verdict import Area, Attachment, Category, Severity, Verdict

if TYPE_CHECKING:  # the baseline's models load with a [drift] table, not with every run
    from smokeproof.database.baseline import Document, Live

Kind = Literal["table", "view", "enum", "sequence", "function", "domain", "type", "extensions", "extra"]
SECTIONS: dict[Kind, str] = {
    "table": "tables",
    "view": "views",
    "enum": "enums",
    "sequence": "sequences",
    "function": "functions",
    "domain": "domains",
    "type": "types",
}
OLD_BASELINE = (
    "format_version 1: predates row security, policies, triggers, privileges, functions, domains and types, "
    "which are not compared; remake it with `smokeproof baseline ... --write PATH` to compare them"
)
ExtraMode = Literal["fail", "warn", "ignore"]


class DriftWarning(UserWarning):
    """Extra objects under ``[drift] extra = "warn"``: shown in the run's warnings, not failed."""


@dataclass(frozen=True, eq=False)
class DriftSettings:
    """``[drift]`` of the environment: the baseline (loaded), what to do with extras, what to leave out."""

    baseline: Document
    extra: ExtraMode = "fail"
    ignore: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # whose privileges are compared (and PUBLIC's), as the baseline names them
    role_map: Mapping[str, str] = field(default_factory=dict)  # a role as the baseline names it -> as named live

    def ignored(self, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in self.ignore)

    @property
    def version(self) -> int:
        return int(self.baseline.get("format_version", 1))

    @property
    def note(self) -> str | None:
        """A line for the report's header when the baseline predates the security kinds."""
        return OLD_BASELINE if self.version < 2 else None


@dataclass(frozen=True, eq=False)
class DriftObject:
    """One drift check: an object of the baseline, the extension set, or the extras."""

    kind: Kind
    name: str
    settings: DriftSettings = field(repr=False)

    @property
    def id(self) -> str:
        return check_id(self.kind, self.name)

    def __repr__(self) -> str:
        # What Allure shows as the test's parameter (and hashes into its history id): the check's name.
        return f"DriftObject({self.id!r})"


def check_id(kind: Kind, name: str) -> str:
    """``drift public.item``, ``drift enum public.level``, ``drift extensions``, ``drift extra objects``."""
    if kind == "extensions":
        return "drift extensions"
    if kind == "extra":
        return "drift extra objects"
    return f"drift {name}" if kind == "table" else f"drift {kind} {name}"


@dataclass(frozen=True)
class Advice:
    meaning: str
    todo: str
    pending: str = ""


def load_settings(config: DriftConfig, *, schemas: Sequence[str]) -> DriftSettings:
    """The environment's ``[drift]`` with its baseline read; bad input is a :class:`UsageError`."""
    from smokeproof.database.baseline import load

    doc = load(config.baseline)
    if list(doc["schemas"]) != list(schemas):
        raise UsageError(
            f"the baseline covers schemas {doc['schemas']}, the environment's [database] schemas are {list(schemas)}: "
            "remake the baseline with the same schemas (smokeproof baseline --schema NAME ...)",
            file=config.baseline,
        )
    return DriftSettings(doc, config.extra, config.ignore, config.roles, dict(config.role_map))


def objects(settings: DriftSettings) -> tuple[DriftObject, ...]:
    """The checks a baseline makes: its objects (less the ignored ones), the extensions, the extras."""
    found = [
        DriftObject(kind, name, settings)
        for kind, section in SECTIONS.items()
        for name in sorted(settings.baseline.get(section, {}))
        if not settings.ignored(name)
    ]
    found.append(DriftObject("extensions", "", settings))
    if settings.extra != "ignore":
        found.append(DriftObject("extra", "", settings))
    return tuple(found)


AT_HEAD = (
    "the database is at the code's head ({revision}), so this changed outside the migrations: by hand, by "
    "another service, or by a migration edited after it ran"
)
AT_HEAD_TODO = (
    "find what changed it; put it back with a new migration (or by hand) to match the baseline, or, if the "
    "change is wanted, write the migration that makes it and remake the baseline"
)


def advice(alignment: Alignment | None) -> Advice:
    """What a difference means, given where the database stands against the code's migrations."""
    if alignment is None:
        return Advice(
            "the database differs from the schema the code's migrations build (the baseline)",
            "apply any pending migrations; otherwise find what changed the schema outside them",
        )
    if alignment.state is AlignmentState.AT_HEAD:
        return Advice(AT_HEAD.format(revision=", ".join(alignment.expected)), AT_HEAD_TODO)
    if alignment.state is AlignmentState.PENDING:
        listing = "\n".join(f"{m.revision}  {m.message}  ({m.path.name})" for m in alignment.pending)
        count = len(alignment.pending)
        return Advice(
            f"the database is behind the code ({count} migration{'s' * (count != 1)} pending): "
            "the difference is likely what they change",
            f"{alignment.upgrade_command}, then rerun; what still differs after that changed outside the migrations",
            listing,
        )
    return Advice(
        f"the database differs from the baseline, and its Alembic revision is not the code's ({alignment.state.value})",
        "resolve the Alembic alignment failure first, then rerun",
    )


@dataclass(frozen=True)
class Finding:
    """How one object differs: it exists (else it is missing), its differences, its JSON diff."""

    exists: bool
    differences: list[str]
    diff: Any
    security: bool = False  # in row security, a policy, a privilege or SECURITY DEFINER
    means: tuple[str, ...] = ()  # what the security differences allow


@dataclass(frozen=True)
class Comparison:
    """The whole baseline against the live document, compared once per run; the checks read it."""

    live: Live
    findings: Mapping[str, Finding]  # by check id: only the objects that differ, the extensions, the extras
    refused: tuple[str, ...] = ()  # sections and table parts the role may not read: "cannot be compared: permission"


def compare(settings: DriftSettings, live: Live) -> Comparison:
    """Compare every object of the baseline with the live schema; an equal object costs one ``==``."""
    live = live.at(settings.version)
    findings: dict[str, Finding] = {}
    roles = drift_security.Roles(settings.roles, settings.role_map)
    refused = drift_security.refused(live.unreadable) if settings.version >= 2 else ()
    parts = tuple(part for part in drift_security.TABLE_PARTS if part in refused)
    for kind, section in SECTIONS.items():
        if section in refused:
            continue
        names = live.names.get(section, {})
        for name, want in settings.baseline.get(section, {}).items():
            if name not in names:
                findings[check_id(kind, name)] = Finding(
                    False, [f"{kind} {name} does not exist"], {"baseline": want, "database": None}
                )
                continue
            got = live.get(section, name)
            if want == got:
                continue
            want, got = roles.prepare(want, live=False), roles.prepare(got, live=True)
            if parts:
                want, got = drift_security.without(want, parts), drift_security.without(got, parts)
            if want != got:
                diffs = drift_security.differences(kind, want, got)
                if diffs:  # unequal documents that say the same (a default spelled out) are no finding
                    security = drift_security.is_security(kind, want, got)
                    means = tuple(drift_security.meanings(kind, want, got))
                    diff = {"baseline": want, "database": got}
                    findings[check_id(kind, name)] = Finding(True, diffs, diff, security, means)
    want_ext = settings.baseline.get("extensions", {})
    ext_diffs = drift_diff.extensions(want_ext, live.extensions) if want_ext != live.extensions else []
    if ext_diffs:
        diff = {"baseline": want_ext, "database": live.extensions}
        findings[check_id("extensions", "")] = Finding(True, ext_diffs, diff)
    found = extras(settings, live, refused)
    if found:
        findings[check_id("extra", "")] = Finding(True, [f"extra {name} (not in the baseline)" for name in found], found)
    return Comparison(live, findings, refused)


def reported_by(obj: DriftObject, comparison: Comparison) -> str | None:
    """For a serial column's sequence whose table is missing, the table's check (the root cause, reported once)."""
    if obj.kind != "sequence":
        return None
    owner = obj.settings.baseline["sequences"][obj.name].get("owned_by")
    table = owner.rsplit(".", 1)[0] if owner else None
    if table and table in obj.settings.baseline.get("tables", {}) and table not in comparison.live.names["tables"]:
        return check_id("table", table)
    return None


def check(obj: DriftObject, comparison: Comparison, hint: Advice) -> Verdict:
    """The verdict on one drift object, read from the run's comparison."""
    section = SECTIONS.get(obj.kind, "")
    if section in comparison.refused:
        raise Unavailable(f"{obj.id}: cannot be compared: permission ({drift_security.refusal(section)})")
    finding = comparison.findings.get(obj.id)
    if finding is None:
        parts = [part for part in drift_security.TABLE_PARTS if part in comparison.refused]
        partly = obj.kind in ("table", "view") and parts
        return Verdict(
            check=obj.id,
            area=Area.SCHEMA,
            expected="as the baseline",
            actual=f"as the baseline ({', '.join(parts)}: cannot be compared: permission)" if partly else "as the baseline",
            ok=True,
            feature="drift",
            story=obj.id,
        )
    if obj.kind == "extra":
        return _extras(obj, finding, hint)
    return _verdict(obj, finding, hint)


def extras(settings: DriftSettings, live: Live, refused: tuple[str, ...] = ()) -> dict[str, Any]:
    """Objects in the database (less the ignored ones) the baseline lacks: ``{"table public.tmp": {...}}``."""
    found: dict[str, Any] = {}
    for kind, section in SECTIONS.items():
        known: Mapping[str, Any] = settings.baseline.get(section, {})
        for name in sorted(live.names.get(section, {}) if section not in refused else ()):
            if name not in known and not settings.ignored(name):
                found[f"{kind} {name}"] = live.get(section, name)
    return found


def _extras(obj: DriftObject, finding: Finding, hint: Advice) -> Verdict:
    if obj.settings.extra == "warn":
        return Verdict(
            check=obj.id,
            area=Area.SCHEMA,
            expected="none",
            actual=f"{len(finding.differences)} (warn)",
            ok=True,
            headline=f"{obj.id}: " + "; ".join(finding.differences),
            feature="drift",
            story=obj.id,
            attachments=(Attachment(name="drift diff", body=_json(finding.diff), mime="application/json"),),
        )
    extra = Advice(
        hint.meaning
        if "outside the migrations" in hint.meaning
        else "objects the code's migrations do not make: left over, made by hand, or made by another service",
        "drop them, add them to the migrations (and remake the baseline), or leave them out with [drift] ignore",
    )
    return _verdict(obj, finding, extra)


def _verdict(obj: DriftObject, finding: Finding, hint: Advice) -> Verdict:
    diffs, exists = finding.differences, finding.exists
    count = f"{len(diffs)} difference{'s' * (len(diffs) != 1)}"
    listing = "\n".join(f"- {d}" for d in diffs)
    headline = f"{obj.id}: {count}" if exists else f"{obj.id}: missing (the baseline has it)"
    means = "\n".join([*finding.means, hint.meaning])
    return Verdict(
        check=obj.id,
        area=Area.SCHEMA,
        expected="as the baseline",
        actual=count if exists else "missing",
        ok=False,
        headline=headline,
        sections=(
            ("differences", listing),
            ("pending migrations (oldest first)", hint.pending),
            ("what it means", means),
            ("what to do", hint.todo),
        ),
        category=_category(finding),
        severity=Severity.CRITICAL,
        feature="drift",
        story=obj.id,
        attachments=(Attachment(name="drift diff", body=_json(finding.diff), mime="application/json"),),
    )


def _category(finding: Finding) -> Category:
    if not finding.exists:
        return Category.MISSING_SCHEMA
    return Category.SECURITY_DRIFT if finding.security else Category.SCHEMA_DRIFT


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
