"""Root cause across checks: a 5xx explained by what the same run finds in the database.

In the incident every OAuth route answered 500 because three tables were missing; read one at a
time, each 500 says "read the server log" and each credential probe "the token is parsed before it
is verified", while the run's own Alembic check knew the cause. When the run finds the database
behind the code (pending migrations, no version table, a branch mismatch) or missing objects a
schema contract names, every 5xx verdict (endpoint or probe) says so in "what it means", names that
check by its test id, and carries its advice in "what to do".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smokeproof.database.catalog import CatalogSnapshot
from smokeproof.database.schema_contract import SchemaEntry, differences
from smokeproof.verdict import Category, Verdict

if TYPE_CHECKING:
    from smokeproof.database.alignment import Alignment


@dataclass(frozen=True)
class CauseChecks:
    """The selected checks a 5xx can point to, by their pytest test ids."""

    alembic: str | None = None  # the Alembic check on database_url
    schema: Mapping[str, tuple[SchemaEntry, str]] = field(default_factory=dict)  # entry id -> (entry, test id)


@dataclass(frozen=True)
class Cause:
    meaning: str
    todo: str


def find(checks: CauseChecks, alignment: Alignment | None, catalog: CatalogSnapshot) -> Cause | None:
    """The database's state that explains a 5xx, when the run finds one (see the module), else None."""
    if checks.alembic is not None and alignment is not None and alignment.behind:
        state = alignment.state.value if len(alignment.pending) != 1 else "one migration behind"
        pending = f", {len(alignment.pending)} pending" if len(alignment.pending) > 1 else ""
        return Cause(
            f"the same run finds the database {state} the code ({', '.join(alignment.database or ()) or 'no revision'} "
            f"where the code expects {', '.join(alignment.expected)}{pending}): a query on a table or column the "
            f"migrations create fails, so requests that touch it answer 500; see {checks.alembic}",
            f"{alignment.todo()}; then rerun",
        )
    for entry, test_id in checks.schema.values():
        exists, diffs = differences(entry, catalog)
        if not exists or any("does not exist" in d for d in diffs):
            what = "missing" if not exists else diffs[0]
            return Cause(
                f"the same run finds {entry.id} {what if not exists else f'incomplete ({what})'}: queries that use it "
                f"fail, so requests that touch it answer 500; see {test_id}",
                "restore the missing object (that check says how), then rerun",
            )
    return None


def explain(verdict: Verdict, cause: Cause | None) -> Verdict:
    """``verdict`` with the cause in its "what it means" and "what to do", when it is a server error."""
    if cause is None or verdict.ok or verdict.category is not Category.SERVER_ERROR:
        return verdict
    replaced = {"what it means": cause.meaning, "what to do": cause.todo}
    sections = tuple((title, replaced.pop(title, text)) for title, text in verdict.sections)
    return dataclasses.replace(verdict, sections=sections + tuple(replaced.items()))
