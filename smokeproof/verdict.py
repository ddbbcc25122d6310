"""Plain result objects shared by the checks, the tests and the reports.

A check (endpoint probe, schema comparison, Alembic alignment) ends in one :class:`Verdict`. The
thin test records it and raises :class:`~smokeproof.errors.SmokeFailure` when it failed; the
reporting modules (Allure labels and categories, the verification table, JUnit) read the same
object, so what QA reads is exactly what the test asserted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from smokeproof.errors import SmokeFailure


class Area(enum.StrEnum):
    """The Allure epic a check belongs to."""

    ENDPOINTS = "Endpoint contracts"
    SCHEMA = "Schema"
    MIGRATIONS = "Migrations"
    PROBES = "Probes"
    CERTIFICATES = "Certificates"
    OWN = "Own checks"


class Severity(enum.StrEnum):
    """How much a failure matters: Allure's severity levels, the one scale every check uses."""

    BLOCKER = "blocker"
    CRITICAL = "critical"
    NORMAL = "normal"
    MINOR = "minor"
    TRIVIAL = "trivial"


class Category(enum.StrEnum):
    """Why a check failed; each is an Allure category and a line in the summary (in this order)."""

    SECURITY_DRIFT = "Security drift"
    MIGRATION_DRIFT = "Migration drift"
    MISSING_SCHEMA = "Missing schema objects"
    SCHEMA_DRIFT = "Schema drift"
    SERVER_ERROR = "Server errors (5xx)"
    AUTH_LEAK = "Authorization leaks"
    AUTH_SETUP = "Authentication setup"
    SLOW = "Slow endpoints"
    UNREACHABLE = "Target unreachable"
    CERTIFICATE = "Certificates"
    DATABASE_ERROR = "Database errors"
    CONTRACT = "Contract mismatch"


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """A text attachment for the report (already redacted by whoever built it)."""

    name: str
    body: str
    mime: str = "text/plain"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The outcome of one check.

    ``expected`` and ``actual`` are short strings for the verification table (``401``, ``500 in
    84 ms``); ``headline`` and ``sections`` make the failure message.
    """

    check: str
    area: Area
    expected: str
    actual: str
    ok: bool
    headline: str = ""
    sections: tuple[tuple[str, str], ...] = ()
    category: Category | None = None
    severity: Severity = Severity.NORMAL
    feature: str = ""
    story: str = ""
    attachments: tuple[Attachment, ...] = field(default=())
    window: tuple[float, float] | None = None  # when the measured work ran (epoch seconds): the report's start and stop
    # Passed, but close to failing (slower than warn_ms, a certificate within warn_days): why. It fails
    # only with --fail-on-degraded, in the category ``degraded_category``.
    degraded: str = ""
    degraded_category: Category | None = None

    def failure(self) -> SmokeFailure:
        """The test failure; its last section names the category (the report's categories match it)."""
        headline = self.headline or f"{self.check}: expected {self.expected}, got {self.actual}"
        if self.ok and self.degraded:
            headline = f"{headline}, degraded: {self.degraded} (--fail-on-degraded)"
        named = self.category or (self.degraded_category if self.degraded else None)
        category = (("category", named.value),) if named else ()
        return SmokeFailure(headline, self.sections + category)
