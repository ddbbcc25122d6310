"""One Alembic migration file, read without importing it.

Migration modules import the app (models, settings, a database driver), so they are compiled (a
syntax error stops ``alembic upgrade``, so it stops the run) and never run. The four fields Alembic
reads (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``) are constants in the
module's bytecode, or else read from its syntax tree (``ast``): literals, or names of constants
defined earlier in the same file. An expression
that only importing could answer (``cli.CONTRACT_BRANCH``) takes its value from the environment's
``[revision] labels``; in ``branch_labels`` without one it leaves the branch unnamed (labels only name
branches); anywhere else it is kept as unresolved and reported with the history (see ``migrations``).
A ``sourceless`` project's ``.pyc`` files are read from their bytecode, never executed.
"""

from __future__ import annotations

import ast
import dis
import importlib.util
import inspect
import marshal
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

from smokeproof.database.bytecode_cache import module_code
from smokeproof.errors import UsageError

FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
LEGACY_NAME = re.compile(r"([a-f0-9]+)\.py$")  # Alembic 0.1 files: the revision is the file name
FIELD_LINE = re.compile(rb"^(?:revision|down_revision|branch_labels|depends_on)\b[^=\n]*=", re.MULTILINE)
BODY_START = re.compile(rb"^(?:def|class|async|@)\b", re.MULTILINE)
STORED = frozenset((*FIELDS, "__doc__"))
STORE_NAME, LOAD_CONST, CACHE = dis.opmap["STORE_NAME"], dis.opmap["LOAD_CONST"], dis.opmap.get("CACHE", -1)
JUMPS = frozenset(dis.hasjrel + dis.hasjabs)
_NOTHING = object()
NEWLINE = b"\n"


@dataclass(frozen=True)
class Opaque:
    """An expression only importing could answer: its source text and line."""

    expression: str
    line: int


@dataclass(frozen=True)
class MigrationFile:
    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    message: str
    path: Path
    relative: str = ""  # the path under its versions folder, as the verdict shows it
    unnamed_labels: tuple[Opaque, ...] = ()  # branch_labels entries left unnamed
    unresolved: tuple[tuple[str, Opaque], ...] = ()  # (field, expression) in down_revision / depends_on

    @property
    def shown_path(self) -> str:
        return self.relative or self.path.name


Value = object  # None, str, tuple[str | Opaque, ...] or Opaque
Fields = dict[str, tuple[Value, int]]  # field -> (value, line)


def read_file(path: Path, *, relative: str = "", labels: Mapping[str, str] | None = None) -> MigrationFile:
    """The revision a migration file declares; a file Alembic could not load is a usage error."""
    if path.suffix in (".pyc", ".pyo"):
        fields, docstring = _compiled_fields(path)
    else:
        fields, docstring = _source_fields(path, labels or {})
    return _migration(fields, docstring, path, relative)


def _source_fields(path: Path, labels: Mapping[str, str]) -> tuple[Fields, str]:
    """From the bytecode when every field is a constant (the usual file), else from the source's syntax tree."""
    try:
        source = path.read_bytes()
        fields, docstring = _code_fields(module_code(path, source))  # what Alembic's import would refuse, refused here
        if all(_plain(value) for value, _ in fields.values()):
            return fields, docstring
        return _tree_fields(_header_tree(source), labels)  # constants of the file, labels, and line numbers
    except SyntaxError as exc:
        raise UsageError(f"syntax error at line {exc.lineno}: {exc.msg}", file=path) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the migration file: {exc}", file=path) from None


def _plain(value: Value) -> bool:
    """None, a string, or a tuple of strings: a field as Alembic's template writes it."""
    return value is None or isinstance(value, str) or (isinstance(value, tuple) and all(isinstance(v, str) for v in value))


def _tree_fields(tree: ast.Module, labels: Mapping[str, str]) -> tuple[Fields, str]:
    """Top-level assignments: literals, constants of the file, or expressions ``labels`` gives a value."""
    assigned: dict[str, ast.expr] = {}  # top-level names, evaluated only when a field refers to them
    fields: Fields = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                if target.id in FIELDS:
                    fields[target.id] = (_evaluate(value, assigned, labels), node.lineno)
                assigned[target.id] = value
    return fields, ast.get_docstring(tree) or ""


def _header_tree(source: bytes) -> ast.Module:
    """The module's statements up to the last field assignment: a 280 KB squash file's body is not turned into objects.

    The cut is at a top-level ``def``/``class``/decorator after the last line that looks like a field
    assignment; a cut inside a string or brackets cannot parse, and the whole file is parsed instead.
    """
    fields = list(FIELD_LINE.finditer(source))
    after = BODY_START.search(source, fields[-1].end()) if fields else None
    if after is not None:
        try:
            return ast.parse(source[: after.start()])
        except SyntaxError:
            pass
    return ast.parse(source)


def _evaluate(
    node: ast.expr, assigned: Mapping[str, ast.expr], labels: Mapping[str, str], seen: frozenset[str] = frozenset()
) -> Value:
    """A literal, a constant defined earlier in the file, a tuple or list of those, or an Opaque."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in assigned and node.id not in seen:
        return _evaluate(assigned[node.id], assigned, labels, seen | {node.id})
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_evaluate(element, assigned, labels, seen) for element in node.elts)
    expression = ast.unparse(node)
    return labels[expression] if expression in labels else Opaque(expression, node.lineno)


def _compiled_fields(path: Path) -> tuple[Fields, str]:
    """A sourceless ``.pyc``: its code object, loaded without running it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the compiled migration file: {exc}", file=path) from None
    if data[:4] != importlib.util.MAGIC_NUMBER:
        raise UsageError("compiled by another Python version: it can only be read by running that Python", file=path)
    try:
        code = marshal.loads(data[16:])
    except (EOFError, ValueError, TypeError) as exc:
        raise UsageError(f"not a compiled Python file: {exc}", file=path) from None
    return _code_fields(code)


def _code_fields(code: CodeType) -> tuple[Fields, str]:
    """Module-level ``LOAD_CONST`` + ``STORE_NAME`` of the fields and the docstring; anything else is Opaque.

    A walk over the raw instructions (two bytes each; ``dis.get_instructions`` costs ten times more).
    A store that a jump lands on (``revision = x if y else "a"``) is not the constant's alone: Opaque.
    """
    raw, names, consts = code.co_code, code.co_names, code.co_consts
    stores: dict[str, tuple[object, int]] = {}  # name -> (constant or _NOTHING, offset)
    constant, extended, jumps = _NOTHING, 0, False
    for offset in range(0, len(raw), 2):
        op, arg = raw[offset], raw[offset + 1] | extended
        extended = arg << 8 if op == dis.EXTENDED_ARG else 0
        if op in (dis.EXTENDED_ARG, CACHE):
            continue
        jumps = jumps or op in JUMPS
        if op == STORE_NAME and names[arg] in STORED:
            stores[names[arg]] = (constant, offset)
        constant = consts[arg] if op == LOAD_CONST else _NOTHING
    targets = set(dis.findlabels(raw)) if jumps else set()  # type: ignore[arg-type]  # it reads the raw bytes
    values = {name: Opaque("(computed)", 0) if c is _NOTHING or o in targets else c for name, (c, o) in stores.items()}
    doc = values.pop("__doc__", "")
    return {name: (value, 0) for name, value in values.items()}, inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _migration(fields: Fields, docstring: str, path: Path, relative: str) -> MigrationFile:
    revision = _revision(fields, path)
    if "down_revision" not in fields:
        raise UsageError("declares no 'down_revision' (Alembic cannot load it; None for a first migration)", file=path)
    down, down_opaque = _strings(fields, "down_revision", path)
    depends_on, depends_opaque = _strings(fields, "depends_on", path)
    labels, unnamed = _strings(fields, "branch_labels", path)
    return MigrationFile(
        revision=revision,
        down_revisions=down,
        branch_labels=labels,
        depends_on=depends_on,
        message=message(docstring, path, revision),
        path=path,
        relative=relative,
        unnamed_labels=unnamed,
        unresolved=tuple(("down_revision", o) for o in down_opaque) + tuple(("depends_on", o) for o in depends_opaque),
    )


def _revision(fields: Fields, path: Path) -> str:
    if "revision" not in fields:
        legacy = LEGACY_NAME.match(path.name)
        if legacy is not None:
            return legacy.group(1)
        raise UsageError("declares no 'revision': Alembic refuses to load a versions folder with this file in it", file=path)
    value, line = fields["revision"]
    if isinstance(value, Opaque):
        raise UsageError(f"'revision' is not a literal (line {line}); it cannot be read without importing", file=path)
    if not isinstance(value, str):
        raise UsageError(f"'revision' must be one string (line {line})", file=path)
    return value


def _strings(fields: Fields, name: str, path: Path) -> tuple[tuple[str, ...], tuple[Opaque, ...]]:
    """A field's strings and the expressions it holds that only importing could answer."""
    value, line = fields.get(name, (None, 0))
    items = () if value is None else (value,) if isinstance(value, str | Opaque) else value
    if not isinstance(items, tuple) or not all(isinstance(item, str | Opaque) for item in items):
        raise UsageError(f"'{name}' must be a string, a tuple of strings or None (line {line})", file=path)
    return tuple(i for i in items if isinstance(i, str)), tuple(i for i in items if isinstance(i, Opaque))


def field_line(path: Path, field: str) -> str:
    """`` (line N)`` of the last assignment to ``field`` in a source file, for an error message ("" if unknown)."""
    try:
        source = path.read_bytes()
    except OSError:
        return ""
    found = list(re.finditer(rb"^" + field.encode() + rb"\b[^=\n]*=", source, re.MULTILINE))
    if not found or path.suffix != ".py":
        return ""
    return f" (line {source.count(NEWLINE, 0, found[-1].start()) + 1})"


def message(docstring: str, path: Path, revision: str) -> str:
    """The docstring's first line, else the slug of the file name (``30018084ec99_initial.py``: ``initial``)."""
    lines = [line.strip() for line in docstring.strip().splitlines()]
    if lines and lines[0]:
        return lines[0]
    stem = path.name.split(".")[0]
    slug = stem.split(revision, 1)[1] if revision in stem else stem
    return slug.strip("_-").replace("_", " ") or stem
