"""Known issues: failures everybody already knows about, each with a ticket and a date it runs out.

``known_issues = "known-issues.toml"`` in an environment file names a file of entries::

    [[known]]
    check = "GET /api/v1/reports -> 200"   # a test id, or a glob over ids (fnmatch)
    issue = "https://tracker.example.com/OPS-412"
    until = 2027-01-15                     # after this date the check fails the run again

While an entry holds, its check still runs and is reported, but its failure does not fail the run:
a gate that is red for a reason everybody knows trains a team to ignore it. An entry without an end
(no ``until``) is refused in production, where a forgotten entry would hide a real outage for good.
The file is validated whole when the run starts (bad input: exit status 4 naming the file and the
entry). This module knows nothing of pytest: :mod:`smokeproof.pytest_plugin.known` applies it.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from smokeproof.config.tomlfile import read_toml, validate
from smokeproof.errors import UsageError

GLOB = re.compile(r"[*?\[]")
TICKET = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+")  # OPS-412, as trackers print ids


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    check: str = Field(min_length=1)
    issue: str = Field(min_length=1)
    until: datetime.date | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    known: list[dict[str, object]] = []


@dataclass(frozen=True, kw_only=True)
class KnownIssue:
    """One entry: which checks it covers, its ticket, and the last day it holds."""

    number: int  # its position in the file, for messages
    check: str
    issue: str
    until: datetime.date | None

    @property
    def ticket(self) -> str:
        """The ticket as the table shows it: ``OPS-412`` from its URL, else the issue as written."""
        found = TICKET.findall(self.issue)
        return found[-1] if found else self.issue.rstrip("/").rsplit("/", 1)[-1] or self.issue

    @property
    def where(self) -> str:
        return f"[[known]] #{self.number} ({self.check})"

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.check) if GLOB.search(self.check) else name == self.check

    def expired(self, today: datetime.date) -> bool:
        """True the day after ``until``: the entry no longer excuses its check."""
        return self.until is not None and today > self.until


@dataclass(frozen=True)
class KnownIssues:
    """The environment's known issues (none when it names no file)."""

    file: Path | None = None
    entries: tuple[KnownIssue, ...] = ()
    strict: bool = False  # strict_known: a known check that passes fails the run

    def find(self, names: Iterable[str]) -> KnownIssue | None:
        """The first entry that covers a check known by any of ``names`` (its test id, its title)."""
        names = tuple(names)
        return next((entry for entry in self.entries if any(entry.matches(name) for name in names)), None)

    def unmatched(self, names: Iterable[str]) -> list[KnownIssue]:
        """The entries that cover none of ``names`` (the checks this suite has)."""
        names = tuple(names)
        return [entry for entry in self.entries if not any(entry.matches(name) for name in names)]

    def refuse_unmatched(self, names: Iterable[str]) -> None:
        """Exit 4 naming the first entry that matches no check: a typo would excuse nothing, silently."""
        left = self.unmatched(names)
        if left:
            entry = left[0]
            raise UsageError(
                f"the entry matches no check of this suite: '{entry.check}' (write a test id as the run prints it, "
                "or a glob such as 'GET /api/v1/reports*')",
                file=self.file,
                where=entry.where,
            )


def load(path: Path | None, *, production: bool, strict: bool = False) -> KnownIssues:
    """The entries of ``path``, validated; in production each must say ``until``."""
    if path is None:
        return KnownIssues(strict=strict)
    data = validate(_File, read_toml(path), file=path)
    entries = []
    for number, raw in enumerate(data.known, start=1):
        where = f"[[known]] #{number} ({raw.get('check', '?')})"
        entry = validate(_Entry, raw, file=path, where=where)
        if production and entry.until is None:
            raise UsageError(
                "a known issue needs 'until' in a production environment (a date after which the check fails again)",
                file=path,
                where=where,
            )
        entries.append(KnownIssue(number=number, check=entry.check, issue=entry.issue, until=entry.until))
    return KnownIssues(path, tuple(entries), strict)
