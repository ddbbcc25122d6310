"""The code's Alembic history: the files Alembic would load, read statically, as Alembic's ``RevisionMap``.

Files are chosen by Alembic's rules (:mod:`smokeproof.database.alembic_config`) and read without
importing (:mod:`smokeproof.database.migration_file`); every graph question (heads, ancestry, order)
goes to Alembic's own ``RevisionMap``. The history is read once, when the run is configured: a broken
folder stops the run with exit status 4 before any check runs, where ``alembic upgrade`` would stop the
deploy. Database revisions compare exactly: Alembic resolves short prefixes, and ``8010`` must not
pass for ``80105006e3d3``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smokeproof.database.alembic_config import VersionLocations, from_folders, list_files
from smokeproof.database.migration_file import MigrationFile, Opaque, field_line, read_file
from smokeproof.errors import UsageError

if TYPE_CHECKING:  # alembic (and SQLAlchemy under it) load with the map, on the first graph question
    from alembic.script.revision import RevisionMap

__all__ = ["MigrationFile", "MigrationHistory", "PendingBranch", "read_history"]


@dataclass(frozen=True)
class PendingBranch:
    """What one head's branch still needs, parents first."""

    name: str  # the branch's labels, else its head revision
    head: str
    files: tuple[MigrationFile, ...]


@dataclass(frozen=True)
class MigrationHistory:
    locations: VersionLocations
    files: Mapping[str, MigrationFile]
    warnings: tuple[str, ...] = ()  # for the report header: what was read differently than Alembic would

    @functools.cached_property
    def revision_map(self) -> RevisionMap:
        """Alembic's own map of the files, built on the first graph question.

        Importing Alembic costs about as much as starting pytest (it loads SQLAlchemy), so a run that
        asks no graph question (``-m contracts``, ``--collect-only``) never pays it; the graph was
        checked statically when the files were read (:func:`_check_cycles`).
        """
        return _revision_map(self.files, self.locations)

    @property
    def versions_dir(self) -> Path:
        return self.locations.folders[0]

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
        """What ``alembic upgrade`` to ``heads`` would apply from ``applied``, parents first."""
        target = heads if heads is not None else self.heads
        needed = self.lineage(target) - self.lineage(tuple(r for r in applied if self.knows(r)))
        ordered: dict[str, None] = {}
        for head in target:  # one walk per head: a head may depend on another (expand/contract)
            walk = [r.revision for r in self.revision_map.iterate_revisions(head, "base")]
            ordered.update((r, None) for r in reversed(walk) if r in needed)
        return tuple(self.files[r] for r in ordered)

    def pending_by_branch(self, applied: tuple[str, ...], heads: tuple[str, ...]) -> tuple[PendingBranch, ...]:
        """``pending`` split by head: a migration two branches share is listed under the first."""
        pending = self.pending(applied, heads)
        listed: set[str] = set()
        branches = []
        for head in heads:
            wanted = self.lineage((head,))
            files = tuple(m for m in pending if m.revision in wanted and m.revision not in listed)
            listed.update(m.revision for m in files)
            if files:
                branches.append(PendingBranch(name=self.branch_name(head), head=head, files=files))
        return tuple(branches)

    def branch_name(self, head: str) -> str:
        revision = self.revision_map.get_revision(head)
        labels = sorted(revision.branch_labels) if revision is not None else []
        return ", ".join(labels) if labels else head


def read_history(source: VersionLocations | Path, *, labels: Mapping[str, str] | None = None) -> MigrationHistory:
    """Read the history Alembic would load; a broken one is a usage error naming the file and the line."""
    locations = source if isinstance(source, VersionLocations) else from_folders([source], recursive=False)
    if locations.origin is None:
        for folder in locations.folders:
            if not folder.is_dir():
                raise UsageError("the Alembic versions folder does not exist (or is not a folder)", file=folder)
    files = _read_files(locations, labels or {})
    _check_labels(files)
    _check_references(files)
    _check_cycles(files, locations)
    return MigrationHistory(locations=locations, files=files, warnings=_unnamed_warnings(files))


def _read_files(locations: VersionLocations, labels: Mapping[str, str]) -> dict[str, MigrationFile]:
    files: dict[str, MigrationFile] = {}
    for listed in list_files(locations):
        migration = read_file(listed.path, relative=listed.relative, labels=labels)
        if migration.revision in files:
            other = files[migration.revision].shown_path
            raise UsageError(
                f"revision {migration.revision}{field_line(listed.path, 'revision')} is declared twice: "
                f"in {other} and in {migration.shown_path}",
                file=listed.path,
            )
        files[migration.revision] = migration
    if not files:
        where = f" in {', '.join(str(f) for f in locations.folders)}" if locations.origin is not None else ""
        hint = _subfolder_hint(locations)
        raise UsageError(f"no migration files{where}{hint}", file=_where(locations))
    return files


def _subfolder_hint(locations: VersionLocations) -> str:
    if locations.recursive:
        return ""
    folders = [folder for folder in locations.folders if folder.is_dir()]
    subfolders = sorted(f"{p.name}/" for folder in folders for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__")
    if not subfolders:
        return ""
    setting = "recursive_version_locations = true" if locations.origin is not None else "[revision] recursive = true"
    return f"; Alembic reads subfolders ({', '.join(subfolders)}) only with {setting}"


def _where(locations: VersionLocations) -> Path:
    return locations.origin if locations.origin is not None else locations.folders[0]


def _check_references(files: Mapping[str, MigrationFile]) -> None:
    """Every parent and dependency names a revision or a label; an unnamed label cannot be one silently."""
    labels = {label for m in files.values() for label in m.branch_labels}
    unnamed = [(m, opaque) for m in files.values() for opaque in m.unnamed_labels]
    for migration in files.values():
        for field, opaque in migration.unresolved:
            raise UsageError(
                f"'{field}' is `{opaque.expression}` (line {opaque.line}), which only importing could answer"
                f"{_also_a_label(opaque, unnamed)}: give its value with "
                f'[revision] labels = {{ "{opaque.expression}" = "..." }}',
                file=migration.path,
            )
        parents = [(p, "down_revision") for p in migration.down_revisions] + [(p, "depends_on") for p in migration.depends_on]
        for parent, field in parents:
            if parent in files or parent in labels:
                continue
            line = field_line(migration.path, field)
            if unnamed:
                raise UsageError(
                    f"revision {migration.revision} points at '{parent}'{line}, no revision here: it may be a branch label "
                    f"set where only importing could read it: {_places(unnamed)}; name it with "
                    f'[revision] labels = {{ "{unnamed[0][1].expression}" = "{parent}" }}',
                    file=migration.path,
                )
            raise UsageError(f"revision {migration.revision} points at unknown revision {parent}{line}", file=migration.path)


def _check_labels(files: Mapping[str, MigrationFile]) -> None:
    """A branch label names one revision and is no revision's id: Alembic refuses the whole history otherwise."""
    owners: dict[str, MigrationFile] = {}
    for migration in files.values():
        for label in migration.branch_labels:
            other = owners.get(label)
            if label in files:
                problem = f"is also the id of the revision in {files[label].shown_path}: labels and revision ids must differ"
            elif other is not None and other is not migration:
                first, second = f"{other.revision} in {other.shown_path}", f"{migration.revision} in {migration.shown_path}"
                problem = f"is declared twice: by revision {first} and by revision {second}"
            else:
                owners[label] = migration
                continue
            line = field_line(migration.path, "branch_labels")
            raise UsageError(f"branch label '{label}'{line} of revision {migration.revision} {problem}", file=migration.path)


def _places(unnamed: list[tuple[MigrationFile, Opaque]]) -> str:
    """Each unnamed label expression once, with the first file and line that sets it."""
    first: dict[str, str] = {}
    for migration, opaque in unnamed:
        first.setdefault(opaque.expression, f"`{opaque.expression}` in {migration.shown_path} (line {opaque.line})")
    return ", ".join(first.values())


def _also_a_label(opaque: Opaque, unnamed: list[tuple[MigrationFile, Opaque]]) -> str:
    for migration, label in unnamed:
        if label.expression == opaque.expression:
            return f"; {migration.shown_path} (line {label.line}) sets it as a branch label"
    return ""


def _check_cycles(files: Mapping[str, MigrationFile], locations: VersionLocations) -> None:
    """A revision that is its own ancestor (through parents, dependencies or labels) breaks the graph for Alembic."""
    owners = {label: m.revision for m in files.values() for label in m.branch_labels}
    parents = {
        m.revision: [owners.get(p, p) for p in (*m.down_revisions, *m.depends_on) if owners.get(p, p) in files]
        for m in files.values()
    }
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        stack = [(start, iter(parents[start]))]
        on_path = {start}
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(path.pop())
                done.add(node)
            elif child in on_path:
                cycle = " -> ".join([*path[path.index(child) :], child])
                raise UsageError(f"the revision graph is broken: cycle {cycle}", file=_where(locations))
            elif child not in done:
                stack.append((child, iter(parents[child])))
                on_path.add(child)
                path.append(child)


def _revision_map(files: Mapping[str, MigrationFile], locations: VersionLocations) -> RevisionMap:
    from alembic.script.revision import Revision, RevisionError, RevisionMap

    revisions = [
        Revision(m.revision, m.down_revisions or None, dependencies=m.depends_on or None, branch_labels=m.branch_labels or None)
        for m in files.values()
    ]
    revision_map = RevisionMap(lambda: revisions)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            revision_map.heads  # noqa: B018 - resolves the map now (as Alembic's load does), so a broken graph fails here
    except (RevisionError, KeyError) as exc:
        raise UsageError(f"the revision graph is broken: {exc}", file=_where(locations)) from None
    return revision_map


def _unnamed_warnings(files: Mapping[str, MigrationFile]) -> tuple[str, ...]:
    """One line per expression left unnamed in ``branch_labels``, with where it first appears."""
    places: dict[str, list[tuple[MigrationFile, Opaque]]] = {}
    for migration in files.values():
        for opaque in migration.unnamed_labels:
            places.setdefault(opaque.expression, []).append((migration, opaque))
    lines = []
    for expression, found in places.items():
        first, opaque = found[0]
        more = f" and {len(found) - 1} more file(s)" if len(found) > 1 else ""
        lines.append(
            f"alembic: branch_labels `{expression}` in {first.shown_path} (line {opaque.line}){more} needs importing to read; "
            f'those branches are unnamed (name them with [revision] labels = {{ "{expression}" = "..." }})'
        )
    return tuple(lines)
