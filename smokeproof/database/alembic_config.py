"""Which files Alembic counts as migrations: the project's Alembic configuration, or the environment's folders.

Alembic reads ``script_location``/``versions``, or every folder in ``version_locations``; subfolders only
with ``recursive_version_locations = true``; and only files its own pattern accepts (no ``.#`` editor lock
files, no ``__init__``, ``.pyc`` only when ``sourceless``). A reader that counts other files than Alembic
does reports a different head than ``alembic upgrade heads`` reaches: a false "pending" blocks a good
deploy, a missed folder lets a bad one through.

Options are read with Alembic's own :class:`alembic.config.Config` (``%(here)s``, ``path_separator``,
``pyproject.toml``'s ``[tool.alembic]``). One difference, on purpose: a relative path is taken relative
to the configuration file's folder, where Alembic takes it relative to the folder it is run from (the
two agree when the project runs ``alembic`` beside its ``alembic.ini``, as Alembic's templates assume).

Flask-Migrate's layout is read too: its ``migrations/alembic.ini`` names no ``script_location`` (Flask-Migrate
sets it in code), and the folder beside it holds ``env.py`` and ``versions/``: that folder is the script
location. Its upgrade command is ``flask db upgrade`` (``[revision] upgrade_command``), not ``alembic upgrade``.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from smokeproof.errors import UsageError

# Alembic's own patterns (alembic/script/base.py), copied: they are private there.
SOURCE_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
SOURCELESS_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)(c|o)?$")


@dataclass(frozen=True)
class VersionLocations:
    """The folders Alembic reads revisions from, and how it reads them."""

    folders: tuple[Path, ...]
    recursive: bool = False
    sourceless: bool = False
    origin: Path | None = None  # the alembic.ini / pyproject.toml they came from, for messages

    def describe(self) -> str:
        folders = ", ".join(str(f) for f in self.folders)
        return f"{folders} (from {self.origin})" if self.origin is not None else folders


@dataclass(frozen=True)
class Listed:
    """A file Alembic would load, with the version location it was found under."""

    path: Path
    location: Path

    @property
    def relative(self) -> str:
        return self.path.relative_to(self.location).as_posix()


def from_alembic_config(path: Path) -> VersionLocations:
    """The version locations an ``alembic.ini`` (with its folder's ``pyproject.toml``) or a ``pyproject.toml`` names."""
    from alembic.config import Config
    from alembic.util import CommandError

    is_toml = path.suffix == ".toml"
    toml = path if is_toml else path.parent / "pyproject.toml"
    config = Config(file_=None if is_toml else path, toml_file=toml if toml.is_file() else None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no path_separator": Alembic falls back to spaces/commas, so do we
            script_location = config.get_alembic_option("script_location")
            listed = config.get_version_locations_list()
            recursive = config.get_alembic_boolean_option("recursive_version_locations")
            sourceless = config.get_alembic_boolean_option("sourceless")
    except (configparser.Error, CommandError, ValueError, KeyError, OSError) as exc:
        raise UsageError(f"Alembic cannot read this configuration: {exc}", file=path) from None
    if script_location is None and not listed and flask_migrate_layout(path.parent):
        return VersionLocations(folders=(path.parent.resolve() / "versions",), origin=path)
    if script_location is None and not listed:
        raise UsageError(
            "no 'script_location' (nor 'version_locations') in the [alembic] section, and its folder holds no "
            "env.py and versions/ (Flask-Migrate's layout)",
            file=path,
        )
    if listed:
        folders = tuple(_location(entry, path) for entry in listed)
    else:
        assert script_location is not None
        folders = (_location(script_location, path) / "versions",)
    return VersionLocations(folders=folders, recursive=recursive, sourceless=sourceless, origin=path)


def flask_migrate_layout(folder: Path) -> bool:
    """Whether ``folder`` is a script location as Flask-Migrate lays it out: env.py, versions/, and an
    alembic.ini without ``script_location`` (``flask db upgrade`` runs its migrations)."""
    ini = folder / "alembic.ini"
    if not ((folder / "env.py").is_file() and (folder / "versions").is_dir() and ini.is_file()):
        return False
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error:
        return False
    return not parser.has_option("alembic", "script_location")


def versions_folder(folder: Path) -> Path:
    """The versions folder a user means: ``folder`` itself, or its ``versions/`` when it is a script location."""
    if (folder / "env.py").is_file() and (folder / "versions").is_dir():
        return folder / "versions"
    return folder


def _location(value: str, config_file: Path) -> Path:
    """A folder from the configuration: a path, or Alembic's ``package:folder`` resource form."""
    if os.path.isabs(value) or ":" not in value:
        return (config_file.parent / value).resolve()
    package, *parts = value.split(":")
    if "." in package:  # finding a subpackage imports its parent package: the app
        raise UsageError(
            f"'{value}' names a folder inside package {package}; finding it would import the app: "
            "set [revision] migrations to the folder instead",
            file=config_file,
        )
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(f"'{value}': package {package} is not importable from here", file=config_file)
    return Path(next(iter(spec.submodule_search_locations)), *parts).resolve()


def from_folders(folders: Sequence[Path], *, recursive: bool) -> VersionLocations:
    """The environment's ``[revision] migrations`` (and ``recursive``), read as Alembic reads version_locations."""
    return VersionLocations(folders=tuple(folders), recursive=recursive)


def list_files(locations: VersionLocations) -> list[Listed]:
    """The files Alembic would load, in its order; a file found twice (overlapping locations) counts once."""
    seen: set[tuple[int, int] | str] = set()
    listed: list[Listed] = []
    for location in locations.folders:
        if not location.exists():  # Alembic skips a version location that does not exist
            continue
        for entry in _walk(location, locations):
            if not _counts(entry, locations.sourceless):
                continue
            try:  # Alembic compares real paths; the file's identity is the same test for one stat call
                info = entry.stat()
                key: tuple[int, int] | str = (info.st_dev, info.st_ino)
            except OSError:  # a dangling link: reading it will say so
                key = entry.path
            if key not in seen:
                seen.add(key)
                listed.append(Listed(path=Path(entry.path), location=location))
    return listed


def _walk(folder: Path | str, locations: VersionLocations) -> Iterator[os.DirEntry[str]]:
    """Alembic's ``Script._list_py_dir``: sorted names, then sorted subfolders (links not followed) when recursive."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    files = [e for e in entries if not e.is_dir()]
    yield from files
    cache = Path(folder) / "__pycache__"
    if locations.sourceless and cache.is_dir():
        names = {e.name.split(".")[0] for e in files}
        with os.scandir(cache) as scan:
            yield from (e for e in scan if e.name.split(".")[0] not in names)
    if locations.recursive:
        for sub in entries:
            if sub.is_dir() and not sub.is_symlink() and not sub.name.endswith("__pycache__"):
                yield from _walk(sub.path, locations)


def _counts(entry: os.DirEntry[str], sourceless: bool) -> bool:
    """Alembic's ``Script._from_path`` filter: its pattern, and a ``.py`` preferred over its ``.pyc``."""
    match = (SOURCELESS_FILE if sourceless else SOURCE_FILE).match(entry.name)
    if match is None:
        return False
    compiled = match.group(2) if sourceless else None
    if compiled:
        folder = Path(entry.path).parent
        source = folder / match.group(1)
        return not (source.exists() or (compiled == "o" and (folder / (match.group(1) + "c")).exists()))
    return True
