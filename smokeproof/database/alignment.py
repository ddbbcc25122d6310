"""Alembic alignment states and what each one means for the deploy.

``align`` compares the database's ``alembic_version`` rows with the code's head(s) and names the
state, with the revision ids, the pending migration files (oldest first) and the command that
would apply them, like the incident report's "Missing Migration" line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smokeproof.database.migrations import MigrationFile, MigrationHistory
from smokeproof.verdict import Area, Attachment, Category, Severity, Verdict


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
    "requests that touch them fail with 500 (the incident: every login answered 500 for 90 minutes)",
    AlignmentState.UNKNOWN: "the database was migrated by code this build does not contain: newer code was "
    "deployed and rolled back, or a hotfix stamped the revision by hand",
    AlignmentState.NO_VERSION_TABLE: "this database was never migrated by Alembic, or the suite points at the wrong database",
    AlignmentState.MULTIPLE_CODE_HEADS: "the code has unmerged Alembic heads: `alembic upgrade head` fails, and "
    "each branch's migrations are pending",
    AlignmentState.BRANCH_MISMATCH: "the database holds some of the code's heads but not all, or sits on a branch "
    "the code does not head: part of the schema the code expects is missing",
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

    @property
    def ok(self) -> bool:
        return self.state is AlignmentState.AT_HEAD

    @property
    def upgrade_command(self) -> str:
        return f"alembic upgrade {self.expected[0]}" if len(self.expected) == 1 else "alembic upgrade heads"

    def todo(self) -> str:
        if self.state is AlignmentState.UNKNOWN:
            return "deploy the code that contains these revisions again, or downgrade/stamp the database deliberately"
        if self.state is AlignmentState.NO_VERSION_TABLE:
            return "check database_url; a new database needs `alembic upgrade head` before the code can run"
        if self.state is AlignmentState.MULTIPLE_CODE_HEADS:
            return "`alembic merge heads` in the code, or apply both branches with `alembic upgrade heads`"
        return f"{self.upgrade_command} (before moving traffic to this code)"

    def verdict(self, check: str = "alembic revision") -> Verdict:
        db = ", ".join(self.database) if self.database else "(no version table)" if self.database is None else "(empty)"
        code = ", ".join(self.expected)
        actual = db if not self.pending else f"{db} ({len(self.pending)} pending)"
        if self.ok:
            return Verdict(
                check=check,
                area=Area.MIGRATIONS,
                expected=code,
                actual=db,
                ok=True,
                headline=f"alembic: database at {db}, the code's head",
                severity=Severity.BLOCKER,
                feature="alembic",
                story=self.state.value,
            )
        plural = "migration" if len(self.pending) == 1 else "migrations"
        headline = {
            AlignmentState.PENDING: f"alembic: database is at {db}, the code expects {code} "
            f"({len(self.pending)} {plural} pending)",
            AlignmentState.UNKNOWN: f"alembic: database is at {db}, a revision the code does not know (code expects {code})",
            AlignmentState.NO_VERSION_TABLE: f"alembic: no alembic_version table in the database (code expects {code})",
            AlignmentState.MULTIPLE_CODE_HEADS: f"alembic: the code has {len(self.expected)} heads ({code}); db at {db}",
            AlignmentState.BRANCH_MISMATCH: f"alembic: branch mismatch: database at {db}, code heads {code}",
            AlignmentState.DIFFERENT: f"alembic: database is at {db}, the code expects {code}",
        }[self.state]
        listing = "\n".join(f"{m.revision}  {m.message}  ({m.path.name})" for m in self.pending)
        sections = (
            ("database revision", db),
            ("code head(s)", f"{code} (from {self.source})"),
            ("pending migrations (oldest first)", listing),
            ("unknown to the code", ", ".join(self.unknown)),
            ("what it means", MEANING[self.state]),
            ("what to do", self.todo()),
        )
        attachments = (Attachment(name="pending migrations", body=listing),) if listing else ()
        return Verdict(
            check=check,
            area=Area.MIGRATIONS,
            expected=code,
            actual=actual,
            ok=False,
            headline=headline,
            sections=sections,
            category=Category.MIGRATION_DRIFT,
            severity=Severity.BLOCKER,
            feature="alembic",
            story=self.state.value,
            attachments=attachments,
        )


def align(
    *, expected: tuple[str, ...], source: str, database: tuple[str, ...] | None, history: MigrationHistory | None
) -> Alignment:
    """Name the state of ``database`` (the ``alembic_version`` rows) against the code's heads."""

    def result(state: AlignmentState, pending: tuple[MigrationFile, ...] = (), unknown: tuple[str, ...] = ()) -> Alignment:
        return Alignment(state, expected, source, database, pending, unknown)

    if database is None:
        return result(AlignmentState.NO_VERSION_TABLE, history.pending((), expected) if history else ())
    if set(database) == set(expected):
        return result(AlignmentState.AT_HEAD)
    if history is None:
        return result(AlignmentState.DIFFERENT)
    unknown = tuple(r for r in database if not history.knows(r))
    if unknown:
        return result(AlignmentState.UNKNOWN, unknown=unknown)
    pending = history.pending(database, expected) if all(history.knows(r) for r in expected) else ()
    wanted = history.lineage(expected)
    if any(r not in wanted for r in database):
        return result(AlignmentState.BRANCH_MISMATCH, pending)
    if len(expected) > 1:
        state = AlignmentState.BRANCH_MISMATCH if set(database) & set(expected) else AlignmentState.MULTIPLE_CODE_HEADS
        return result(state, pending)
    return result(AlignmentState.PENDING, pending)
