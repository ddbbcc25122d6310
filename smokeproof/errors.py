"""Every way smokeproof says no, in one tree.

::

    SmokeError
    ├── UsageError                 the run cannot start: its input is wrong (exit status 4)
    ├── Unavailable                a check cannot run here (no database configured): skipped, with why
    │   └── ReportedElsewhere      its cause, a fault of the target, is another selected check's failure
    ├── TargetError                the target could not be checked; each failure names its category
    │   ├── TargetUnreachable      nothing answered: connection refused or timed out, start command failed
    │   │   └── DatabaseUnreachable    the database connection could not be opened
    │   ├── DatabaseError          connected, but the read failed (a statement timeout, a catalog error)
    │   └── Stalled                a result the run waited for did not come within its bound
    └── SmokeFailure               a check ran and the deployment breaks its contract (an AssertionError)
        └── Refused                an own check's request was not sent: unsafe in production, or to another origin

* :class:`UsageError` (a broken TOML file, an unknown environment, an unset ``${VAR}``, a corrupt
  migrations folder) becomes a one-paragraph message and exit status 4, never a traceback.
* :class:`TargetError` is raised by the checks' plumbing (the catalog read, the target's start) and
  turned into a failing verdict in one place, :func:`smokeproof.database.run_checks.target_failure`.
* :class:`SmokeFailure` carries titled sections (target, expected, actual, what it means, what to do)
  so that a failure needs no second look.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

EXIT_USAGE = 4


class SmokeError(Exception):
    """The root of smokeproof's own errors."""


class UsageError(SmokeError):
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


class Unavailable(SmokeError):
    """A check cannot run here (no database configured, nothing says where the code's head is): skipped."""


class ReportedElsewhere(Unavailable):
    """Skipped because another selected check reports the fault it depends on (its table is missing).

    Still a fault of the target: a run with such a skip is not healthy.
    """


class TargetError(SmokeError):
    """The target could not be checked; the message is already redacted and names the target."""


class TargetUnreachable(TargetError):
    """Nothing answered: the connection was refused or timed out, or the start command failed."""


class DatabaseUnreachable(TargetUnreachable):
    """The database connection could not be opened (refused, timed out, authentication failed)."""


class DatabaseError(TargetError):
    """The database was reached but could not be read: a statement timeout, a catalog query that failed."""


class Stalled(TargetError):
    """A result the run waited for (a request's answer, a catalog read) did not arrive within its bound.

    Every request and read has its own timeouts; this bound is the net under them, so that no check,
    whatever goes wrong underneath, waits forever (``--smoke-timeout`` shortens it).
    """


class SmokeFailure(SmokeError, AssertionError):
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


def reason(exc: BaseException, *, kind: bool = True) -> str:
    """An exception as one line: its class (unless ``kind`` is false) and its message's first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if not text:
        return exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if kind else text


class Refused(SmokeFailure):
    """An own check's request refused before anything was sent (a production rule, another origin): says how to allow it."""
