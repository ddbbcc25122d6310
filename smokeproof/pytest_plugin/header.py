"""The report header pytest prints first: what is checked, where, and how safely."""

from __future__ import annotations

from smokeproof.config.databases import DEFAULT_NAME
from smokeproof.database.revision_source import describe_source
from smokeproof.http import certificates
from smokeproof.pytest_plugin.settings import Settings

PRODUCTION = "smokeproof: PRODUCTION: only GET, HEAD and OPTIONS are sent; database sessions are read-only"


def header_lines(settings: Settings) -> list[str]:
    """Which environment, at which URL, whether it is production, where the expected revision comes from, what is absent."""
    env = settings.env
    lines = [env.header_line()]
    if env.production:
        lines.append(PRODUCTION)
    if env.databases:  # a fleet: the names (their URLs are in the environment file)
        names = [DEFAULT_NAME] * (env.database_url is not None) + list(env.databases)
        lines.append(f"smokeproof: databases: {', '.join(names)} ({len(names)})")
    else:
        database = env.masked_database_url() if env.database_url else "(started by the run)" if env.start else "(none)"
        lines.append(f"smokeproof: database {database}")
    lines.append(f"smokeproof: expected Alembic revision from {describe_source(env, settings.expected_override)}")
    lines += [f"smokeproof: {warning}" for warning in (settings.history.warnings if settings.history else ())]
    absent = settings.absent()
    if settings.contracts and not any(c.fuzzable for c in settings.contracts) and env.fuzz.max_examples:
        absent.append("credential probes (no contract rejects anonymous callers)")
    if env.base_url is not None and not certificates.targets(env):
        absent.append("certificates (base_url is http://)")
    if absent:
        lines.append(f"smokeproof: not checked here: {'; '.join(absent)}")
    return lines
