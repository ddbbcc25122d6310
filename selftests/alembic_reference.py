"""Alembic's own answers, to hold the static reader to: ``ScriptDirectory`` on the same folders.

The example migrations import nothing of an app (only ``alembic`` and, for the expand/contract
example, its ``example_cli`` constants), so Alembic may import them here; smokeproof never does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import to_tuple

from smokeproof.database.alembic_config import VersionLocations
from smokeproof.database.alignment import align
from smokeproof.database.migrations import MigrationHistory

EXAMPLES = Path(__file__).parent / "examples"


def script_for(locations: VersionLocations) -> ScriptDirectory:
    """Alembic's ScriptDirectory: from the configuration file when there is one, else on the same folders."""
    if locations.origin is not None:
        is_toml = locations.origin.suffix == ".toml"
        config = Config(file_=None if is_toml else locations.origin, toml_file=locations.origin if is_toml else None)
        return ScriptDirectory.from_config(config)
    return ScriptDirectory(
        locations.folders[0].parent,
        version_locations=list(locations.folders),
        recursive_version_locations=locations.recursive,
        sourceless=locations.sourceless,
    )


def upgrade_heads(script: ScriptDirectory, rows: tuple[str, ...]) -> list[str]:
    """What ``alembic upgrade heads`` applies from a database whose ``alembic_version`` holds ``rows``."""
    return [step.revision.revision for step in script._upgrade_revs("heads", rows)]  # what command.upgrade runs


def database_states(script: ScriptDirectory) -> Iterator[tuple[str, ...]]:
    """Empty, every single revision, every pair of revisions on different branches."""
    revisions = sorted(s.revision for s in script.walk_revisions())
    yield ()
    yield from ((r,) for r in revisions)
    ancestry = {r: {a.revision for a in script.revision_map.iterate_revisions(r, "base")} for r in revisions}
    for a, b in itertools.combinations(revisions, 2):
        if a not in ancestry[b] and b not in ancestry[a]:
            yield (a, b)


def assert_same_as_alembic(history: MigrationHistory, script: ScriptDirectory, *, labels: bool = True) -> int:
    """The files, the graph, and for every database state what ``upgrade heads`` applies; returns the states compared."""
    scripts = {s.revision: s for s in script.walk_revisions()}
    assert set(history.files) == set(scripts)
    for revision, migration in history.files.items():
        theirs = scripts[revision]
        assert migration.path == Path(theirs.path), revision
        assert migration.down_revisions == to_tuple(theirs.down_revision, default=()), revision
        assert migration.depends_on == to_tuple(theirs.dependencies, default=()), revision
        if labels:
            assert set(migration.branch_labels) == set(theirs._orig_branch_labels), revision
    assert history.heads == tuple(sorted(script.get_heads()))
    compared = 0
    for rows in database_states(script):
        expected = upgrade_heads(script, rows)
        ours = [m.revision for m in history.pending(rows)]
        assert sorted(ours) == sorted(expected), rows
        assert_parents_first(history, rows, ours)
        result = align(expected=history.heads, source="example", database=rows, history=history)
        assert result.ok == (not expected and rows != ()), (rows, result.state)
        compared += 1
    return compared


def assert_parents_first(history: MigrationHistory, applied: tuple[str, ...], pending: list[str]) -> None:
    done = history.lineage(applied)
    for revision in pending:
        migration = history.files[revision]
        for parent in (*migration.down_revisions, *migration.depends_on):
            parent_revision = history.revision_map.get_revision(parent)
            assert parent_revision is not None and parent_revision.revision in done, (revision, parent)
        done.add(revision)
