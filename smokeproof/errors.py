"""The two ways smokeproof says no.

* :class:`UsageError`: the run cannot start because its input is wrong (a broken TOML file, an
  unknown environment, an unset ``${VAR}``, a corrupt migrations folder). The plugin turns it into
  a one-paragraph message and exit status 4, never a traceback.
* :class:`SmokeFailure`: a check ran and the deployment breaks its contract. An ``AssertionError``
  with titled sections (target, expected, actual, what it means, what to do) so that a failure
  needs no second look.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

EXIT_USAGE = 4


class UsageError(Exception):
    """Bad input: names the file (and the entry or key) and the problem."""

    def __init__(self, problem: str, *, file: Path | str | None = None, where: str | None = None) -> None:
        self.problem = problem
        self.file = Path(file) if file is not None else None
        self.where = where
        super().__init__(self.render())

    def render(self) -> str:
        head = str(self.file) if self.file is not None else "smokeproof"
        if self.where:
            head = f"{head}: {self.where}"
        return f"{head}: {self.problem}"


class SmokeFailure(AssertionError):
    """A contract the deployment breaks, with titled context sections.

    ``headline`` is the first line (``GET https://host/api/v1/auth/me: expected 401, got 500 in
    84 ms``); ``sections`` are ``(title, body)`` pairs printed under it.
    """

    def __init__(self, headline: str, sections: Iterable[tuple[str, str]] = ()) -> None:
        self.headline = headline
        self.sections = tuple((title, body) for title, body in sections if body)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.headline]
        for title, body in self.sections:
            lines.append(f"  {title}:")
            lines.extend(f"    {line}" for line in body.splitlines() or [""])
        return "\n".join(lines)
