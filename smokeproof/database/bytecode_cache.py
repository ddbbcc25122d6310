"""Does a migration file compile? Answered as Python's import answers it, with its ``__pycache__``.

Alembic imports every migration, so a syntax error anywhere in a file stops ``alembic upgrade``;
smokeproof must refuse the same files. Compiling is most of the cost of reading a versions folder
(a 280 KB squash file takes a tenth of a second), and Python's import already keeps the answer: a
``.pyc`` whose header matches the source (its mtime and size, or its hash) was compiled from exactly
this source. Such a file is not compiled again (its code object is loaded from the cache); after
compiling one, its ``.pyc`` is written as the import system would write it (not under
``PYTHONDONTWRITEBYTECODE``; a read-only tree is fine). The code is never run: its module-level
constants are read from the bytecode (:mod:`smokeproof.database.migration_file`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from types import CodeType

HEADER = 16  # magic, flags, then mtime + size (or an 8-byte source hash)


def module_code(path: Path, source: bytes) -> CodeType:
    """The module's code object; raises SyntaxError when ``source`` (the text of ``path``) does not compile."""
    try:
        cached = Path(importlib.util.cache_from_source(str(path), optimization=""))
        info = path.stat()
    except (NotImplementedError, ValueError, OSError):
        return _compile(path, source)
    code = _cached_code(cached, source, info)
    if code is not None:
        return code
    code = _compile(path, source)
    if not sys.dont_write_bytecode:
        _write(cached, code, info)
    return code


def _compile(path: Path, source: bytes) -> CodeType:
    return compile(source, str(path), "exec", dont_inherit=True, optimize=0)  # optimize=0: docstrings kept


def _cached_code(cached: Path, source: bytes, info: os.stat_result) -> CodeType | None:
    try:
        data = cached.read_bytes()
    except OSError:
        return None
    if not _header_matches(data[:HEADER], source, info):
        return None
    try:
        code = marshal.loads(data[HEADER:])
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _header_matches(header: bytes, source: bytes, info: os.stat_result) -> bool:
    if len(header) < HEADER or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags & 0b1:  # hash-based .pyc
        return header[8:16] == importlib.util.source_hash(source)
    mtime, size = int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little")
    return mtime == int(info.st_mtime) & 0xFFFFFFFF and size == info.st_size & 0xFFFFFFFF


def _write(cached: Path, code: CodeType, info: os.stat_result) -> None:
    """A timestamp-based ``.pyc``, written atomically like the import system's."""
    data = bytearray(importlib.util.MAGIC_NUMBER)
    data += (0).to_bytes(4, "little")
    data += (int(info.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
    data += (info.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    data += marshal.dumps(code)
    temporary = cached.with_name(f"{cached.name}.{os.getpid()}")
    with contextlib.suppress(OSError):  # a read-only tree: the next run compiles again, as imports would
        try:
            cached.parent.mkdir(exist_ok=True)
            temporary.write_bytes(bytes(data))
            os.replace(temporary, cached)
        finally:
            temporary.unlink(missing_ok=True)
