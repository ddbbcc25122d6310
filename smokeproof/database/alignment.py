"""Alembic alignment states and what each one means for the deploy.

``align`` compares the database's ``alembic_version`` rows with the code's head(s) and names the
state, with the revision ids, the pending migration files (parents first, per branch when the code
has several heads) and the command that would apply them, like the incident report's "Missing
Migration" line. Several heads are a design (expand/contract branches upgraded with ``alembic upgrade
heads``) unless the environment says the code has one (``[revision] single_head = true``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smokeproof.database.migrations import MigrationFile, MigrationHistory, PendingBranch
from smokeproof.verdict import Area, Attachment, Category, Severity, Verdict

DEFAULT_UPGRADE = "alembic upgrade {revision}"


class AlignmentState(enum.StrEnum):
    AT_HEAD = "at head"
    PENDING = "pending"
    UNKNOWN = "unknown"
    NO_VERSION_TABLE = "no version table"
    MULTIPLE_CODE_HEADS = "multiple code heads"
    BRANCH_MISMATCH = "branch mismatch"
    DIFFERENT = "different"


MEANING = {
    AlignmentState.PENDING: "the deployed code needs tables, columns or types these migrations create; "
    "every request that touches them fails (typically with 500) until they are applied",
    AlignmentState.UNKNOWN: "the database was migrated by code this build does not contain: newer code was "
    "deployed and rolled back, or a hotfix stamped the revision by hand",
    AlignmentState.NO_VERSION_TABLE: "this database was never migrated by Alembic, or the suite points at the wrong database",
    AlignmentState.MULTIPLE_CODE_HEADS: "the environment says the code has one Alembic head ([revision] single_head = true), "
    "and it has several: `alembic upgrade head` fails, and each branch's migrations are pending",
    AlignmentState.BRANCH_MISMATCH: "the database sits on a branch the expected head(s) do not contain: part of the "
    "schema the code expects is missing, and the database holds changes this code does not know it has",
    AlignmentState.DIFFERENT: "the database is not at the code's revision; without a versions folder the suite "
    "cannot tell whether it is behind or ahead",
}


@dataclass(frozen=True)
class Alignment:
    state: AlignmentState
    expected: tuple[str, ...]
    source: str
    database: tuple[str, ...] | None
    pending: tuple[MigrationFile, ...] = ()
    unknown: tuple[str, ...] = ()
    branches: tuple[PendingBranch, ...] = ()  # pending, split by the code's heads when it has several
    upgrade: str = DEFAULT_UPGRADE  # [revision] upgrade_command

    @property
    def ok(self) -> bool:
        return self.state is AlignmentState.AT_HEAD

    @property
    def behind(self) -> bool:
        """The database lacks what the code's migrations create (its requests can fail with 500)."""
        return self.state in (AlignmentState.PENDING, AlignmentState.NO_VERSION_TABLE, AlignmentState.BRANCH_MISMATCH)

    @property
    def upgrade_command(self) -> str:
        """The team's command that applies the migrations (``[revision] upgrade_command``, ``{revision}`` filled in)."""
        return self.upgrade.replace("{revision}", self.expected[0] if len(self.expected) == 1 else "heads")

    def todo(self) -> str:
        if self.state is AlignmentState.UNKNOWN:
            return "deploy the code that contains these revisions again, or downgrade/stamp the database deliberately"
        if self.state is AlignmentState.NO_VERSION_TABLE:
            return f"check database_url; a new database needs `{self.upgrade_command}` before the code can run"
        if self.state is AlignmentState.MULTIPLE_CODE_HEADS:
            return "`alembic merge heads` in the code (or drop [revision] single_head if the branches are by design)"
        return f"{self.upgrade_command} (before moving traffic to this code)"

    def verdict(self, check: str = "alembic revision") -> Verdict:
        return _passed(self, check) if self.ok else _failed(self, check)


# --- the verdict, piece by piece --------------------------------------------------------------------


def _database_text(alignment: Alignment) -> str:
    if alignment.database is None:
        return "(no version table)"
    return ", ".join(alignment.database) if alignment.database else "(empty)"


def _passed(alignment: Alignment, check: str) -> Verdict:
    db = _database_text(alignment)
    heads = "the code's head" if len(alignment.expected) == 1 else f"the code's {len(alignment.expected)} heads"
    return Verdict(
        check=check,
        area=Area.MIGRATIONS,
        expected=", ".join(alignment.expected),
        actual=db,
        ok=True,
        headline=f"alembic: database at {db}, {heads}",
        severity=Severity.BLOCKER,
        feature="alembic",
        story=alignment.state.value,
    )


def _pending_count(alignment: Alignment) -> str:
    count = len(alignment.pending)
    text = f"{count} migration{'' if count == 1 else 's'} pending"
    return f"{text} on {len(alignment.branches)} branches" if len(alignment.branches) > 1 else text


def _headline(alignment: Alignment) -> str:
    db, code = _database_text(alignment), ", ".join(alignment.expected)
    expects = f"the code expects {code}" if len(alignment.expected) == 1 else f"the code's heads are {code}"
    return {
        AlignmentState.PENDING: f"alembic: database is at {db}, {expects} ({_pending_count(alignment)})",
        AlignmentState.UNKNOWN: f"alembic: database is at {db}, a revision the code does not know (code expects {code})",
        AlignmentState.NO_VERSION_TABLE: f"alembic: no alembic_version table in the database (code expects {code})",
        AlignmentState.MULTIPLE_CODE_HEADS: f"alembic: the code has {len(alignment.expected)} heads ({code}) "
        f"where [revision] single_head says one; db at {db}",
        AlignmentState.BRANCH_MISMATCH: f"alembic: branch mismatch: database at {db}, code heads {code}",
        AlignmentState.DIFFERENT: f"alembic: database is at {db}, the code expects {code}",
    }[alignment.state]


def _line(migration: MigrationFile) -> str:
    return f"{migration.revision}  {migration.message}  ({migration.shown_path})"


def _listing(alignment: Alignment) -> str:
    """Pending files, parents first; under one heading per branch when the code has several heads."""
    if len(alignment.branches) <= 1:
        return "\n".join(_line(m) for m in alignment.pending)
    blocks = []
    for branch in alignment.branches:
        title = f"branch {branch.name}" if branch.name == branch.head else f"branch {branch.name} (head {branch.head})"
        blocks.append("\n".join([f"{title}:", *(f"  {_line(m)}" for m in branch.files)]))
    return "\n".join(blocks)


def _failed(alignment: Alignment, check: str) -> Verdict:
    db, code, listing = _database_text(alignment), ", ".join(alignment.expected), _listing(alignment)
    sections = (
        ("database revision", db),
        ("code head(s)", f"{code} (from {alignment.source})"),
        ("pending migrations (parents first)", listing),
        ("unknown to the code", ", ".join(alignment.unknown)),
        ("what it means", MEANING[alignment.state]),
        ("what to do", alignment.todo()),
    )
    return Verdict(
        check=check,
        area=Area.MIGRATIONS,
        expected=code,
        actual=f"{db} ({len(alignment.pending)} pending)" if alignment.pending else db,
        ok=False,
        headline=_headline(alignment),
        sections=sections,
        category=Category.MIGRATION_DRIFT,
        severity=Severity.BLOCKER,
        feature="alembic",
        story=alignment.state.value,
        attachments=(Attachment(name="pending migrations", body=listing),) if listing else (),
    )


# --- the state ---------------------------------------------------------------------------------------


def align(
    *,
    expected: tuple[str, ...],
    source: str,
    database: tuple[str, ...] | None,
    history: MigrationHistory | None,
    single_head: bool = False,
    upgrade: str = DEFAULT_UPGRADE,
) -> Alignment:
    """Name the state of ``database`` (the ``alembic_version`` rows) against the code's heads."""

    def result(state: AlignmentState, applied: tuple[str, ...] | None = (), unknown: tuple[str, ...] = ()) -> Alignment:
        """``applied``: what the pending list starts from (None: no list)."""
        if history is None or applied is None or not all(history.knows(r) for r in expected):
            return Alignment(state, expected, source, database, unknown=unknown, upgrade=upgrade)
        branches = history.pending_by_branch(applied, expected) if len(expected) > 1 else ()
        pending = history.pending(applied, expected)
        return Alignment(state, expected, source, database, pending, unknown, branches, upgrade)

    if single_head and len(expected) > 1:
        return result(AlignmentState.MULTIPLE_CODE_HEADS, database or ())
    if database is None:
        return result(AlignmentState.NO_VERSION_TABLE)
    if set(database) == set(expected):
        return result(AlignmentState.AT_HEAD, None)
    if history is None:
        return result(AlignmentState.DIFFERENT, None)
    unknown = tuple(r for r in database if not history.knows(r))
    if unknown:
        return result(AlignmentState.UNKNOWN, None, unknown)
    wanted = history.lineage(expected)
    if any(r not in wanted for r in database):
        return result(AlignmentState.BRANCH_MISMATCH, database)
    if database and all(history.knows(r) for r in expected) and not history.pending(database, expected):
        # `alembic upgrade heads` has nothing to apply: a head another head depends on leaves no row of its own
        return result(AlignmentState.AT_HEAD, None)
    return result(AlignmentState.PENDING, database)
