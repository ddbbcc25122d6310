"""Alembic alignment: is the database at the code's head, and if not, what is pending?

The versions folder is read statically (``ast``): migration modules import the app, so they are
never imported. The revisions go to Alembic's own ``RevisionMap`` for every graph question
(heads, ancestry, order). Database revisions compare exactly: Alembic resolves short prefixes,
and ``8010`` must not pass for ``80105006e3d3``.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alembic.script.revision import Revision, RevisionError, RevisionMap

from smokeproof.errors import UsageError

FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")


@dataclass(frozen=True)
class MigrationFile:
    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    message: str
    path: Path


@dataclass(frozen=True)
class MigrationHistory:
    versions_dir: Path
    files: Mapping[str, MigrationFile]
    revision_map: RevisionMap

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(sorted(self.revision_map.heads))

    def knows(self, revision: str) -> bool:
        """Exact match only (no prefix resolution)."""
        return revision in self.files

    def lineage(self, revisions: tuple[str, ...]) -> set[str]:
        """The revisions and all their ancestors (dependencies included)."""
        # One walk per revision: Alembic refuses a set in which one is another's ancestor
        # (alembic_version rows ("009", "010") are a real-world case of that).
        return {r.revision for rev in revisions for r in self.revision_map.iterate_revisions(rev, "base")}

    def pending(self, applied: tuple[str, ...], heads: tuple[str, ...] | None = None) -> tuple[MigrationFile, ...]:
        """What ``alembic upgrade`` to ``heads`` would apply from ``applied``, oldest first."""
        target = heads if heads is not None else self.heads
        needed = self.lineage(target) - self.lineage(tuple(r for r in applied if self.knows(r)))
        newest_first = [r.revision for r in self.revision_map.iterate_revisions(target, "base")]
        return tuple(self.files[r] for r in reversed(newest_first) if r in needed)


def _literal(node: ast.expr, path: Path, name: str) -> tuple[str, ...]:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise UsageError(
            f"'{name}' is not a literal (line {node.lineno}); it cannot be read without importing", file=path
        ) from None
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"'{name}' must be a string, a tuple of strings or None (line {node.lineno})", file=path)


def read_file(path: Path) -> MigrationFile | None:
    """The revision a migration file declares, or None when it declares none."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise UsageError(f"syntax error at line {exc.lineno}: {exc.msg}", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the migration file: {exc}", file=path) from None
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        for target in targets:
            if isinstance(target, ast.Name) and target.id in FIELDS and value is not None:
                found[target.id] = _literal(value, path, target.id)
    if "revision" not in found:
        return None
    if len(found["revision"]) != 1:
        raise UsageError("'revision' must be one string", file=path)
    docstring = ast.get_docstring(tree) or ""
    return MigrationFile(
        revision=found["revision"][0],
        down_revisions=found.get("down_revision", ()),
        branch_labels=found.get("branch_labels", ()),
        depends_on=found.get("depends_on", ()),
        message=docstring.strip().splitlines()[0] if docstring.strip() else "",
        path=path,
    )


def read_history(versions_dir: Path) -> MigrationHistory:
    """Read an Alembic versions folder; a broken one is a usage error naming the file."""
    if not versions_dir.is_dir():
        raise UsageError("the Alembic versions folder does not exist (or is not a folder)", file=versions_dir)
    files: dict[str, MigrationFile] = {}
    for path in sorted(versions_dir.rglob("*.py")):
        if path.name == "__init__.py" or "__pycache__" in path.parts:
            continue
        migration = read_file(path)
        if migration is None:
            continue
        if migration.revision in files:
            other = files[migration.revision].path.name
            raise UsageError(f"revision {migration.revision} is declared twice (also in {other})", file=path)
        files[migration.revision] = migration
    if not files:
        raise UsageError("no migration files (no module declares a 'revision')", file=versions_dir)
    labels = {label for m in files.values() for label in m.branch_labels}
    for migration in files.values():
        for parent in (*migration.down_revisions, *migration.depends_on):
            if parent not in files and parent not in labels:
                raise UsageError(f"revision {migration.revision} points at unknown revision {parent}", file=migration.path)
    revisions = [
        Revision(m.revision, m.down_revisions or None, dependencies=m.depends_on or None, branch_labels=m.branch_labels or None)
        for m in files.values()
    ]
    revision_map = RevisionMap(lambda: revisions)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            revision_map.heads  # noqa: B018 - resolves the map now, so a broken graph fails here
            for head in revision_map.heads:
                list(revision_map.iterate_revisions(head, "base"))
    except (RevisionError, KeyError) as exc:
        raise UsageError(f"the revision graph is broken: {exc}", file=versions_dir) from None
    return MigrationHistory(versions_dir=versions_dir, files=files, revision_map=revision_map)
