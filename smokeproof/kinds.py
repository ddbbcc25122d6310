"""The kinds of check a suite can hold: one row each, the one table that says which thin module carries which.

A kind the environment configures but no collected test carries is a check that silently never runs
(``[drift]`` added to an environment whose suite was scaffolded before drift existed: a green run that
checked nothing). The plugin refuses that run (exit 4, :mod:`smokeproof.pytest_plugin.unchecked`),
``smokeproof init`` writes every module listed here, ``smokeproof init --update`` adds the ones a suite
lacks. A new kind of check is one row here, its thin module under ``tests/`` and its link under
``smokeproof/cli/suite/`` (what ``init`` copies, shipped with the package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smokeproof.pytest_plugin.settings import Settings


@dataclass(frozen=True)
class Kind:
    """A kind of check: its name, the parameter (or fixture) its tests take, its thin module, when it is configured."""

    name: str
    parameter: str  # a collected test that takes it carries the kind
    module: str  # the thin module, relative to the suite's root
    markers: tuple[str, ...]  # its module's pytestmark: ``-m 'not drift'`` deselects it on purpose
    configured: Callable[[Settings], str | None]  # what configures it (for the message), or None


def _contracts(settings: Settings) -> str | None:
    return f"{len(settings.contracts)} endpoint contracts" if settings.contracts else None


def _probes(settings: Settings) -> str | None:
    if not settings.env.fuzz.max_examples or not any(c.fuzzable for c in settings.contracts):
        return None
    return "endpoint contracts that reject anonymous callers ([fuzz] max_examples > 0)"


def _certificates(settings: Settings) -> str | None:
    from smokeproof.http.certificates import targets

    hosts = targets(settings.env)
    return f"{len(hosts)} HTTPS host{'s' * (len(hosts) > 1)} (base_url, token endpoints)" if hosts else None


def _has_database(settings: Settings) -> bool:
    env = settings.env
    return env.database_url is not None or bool(env.databases) or env.start is not None


def _schema(settings: Settings) -> str | None:
    entries = settings.schema.entries
    return f"{len(entries)} schema contract entries" if entries and _has_database(settings) else None


def _alembic(settings: Settings) -> str | None:
    from smokeproof.database.revision_source import configured

    if not _has_database(settings) or not configured(settings.env, settings.expected_override):
        return None
    return "[revision] (where the code's Alembic head comes from)"


def _drift(settings: Settings) -> str | None:
    return "[drift] baseline" if settings.drift and _has_database(settings) else None


KINDS: tuple[Kind, ...] = (
    Kind("endpoint contracts", "endpoint", "tests/contracts/test_endpoints.py", ("contracts",), _contracts),
    Kind("credential probes", "fuzz_endpoint", "tests/contracts/test_credentials.py", ("contracts", "fuzz"), _probes),
    Kind("certificates", "certificate", "tests/contracts/test_certificates.py", ("contracts",), _certificates),
    Kind("schema contracts", "schema_object", "tests/schema/test_schema.py", ("schema",), _schema),
    Kind("Alembic alignment", "database", "tests/schema/test_alembic.py", ("schema", "alembic"), _alembic),
    Kind("drift", "drift_object", "tests/schema/test_drift.py", ("schema", "drift"), _drift),
)

# The suite's markers (registered by the plugin too, so a pytest.ini written before a marker existed still runs it).
MARKERS = {
    "contracts": "endpoint contracts (status, content type, body, latency, authorization)",
    "schema": "schema contracts (tables, columns, enum types, indexes, foreign keys) and Alembic alignment",
    "alembic": "Alembic alignment between the database and the code",
    "fuzz": "property-based probes with malformed credentials",
    "drift": "the whole schema against the baseline the code's migrations build ([drift] baseline)",
}
# Files init writes besides the thin modules (the same for every suite).
PLAIN_MODULES = ("conftest.py",)
