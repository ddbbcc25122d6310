"""The self-test FastAPI service, running: embedded PostgreSQL, its migrations, the app on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from fastapi import FastAPI

from demo.pgcluster import start_cluster

from ..servers import serve_app
from .app import create_app, seed

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DATABASE = "service"
ROLE = "service"


@dataclass
class Service:
    base_url: str
    database_url: str  # as the app's operators would hand it out: a role with a password
    app: FastAPI
    admin: tuple[str, str]  # (email, password)
    user: tuple[str, str]
    faults: set[str] = field(default_factory=set)

    @property
    def versions(self) -> Path:
        return MIGRATIONS / "versions"


def migrate(database_url: str, revision: str = "head") -> None:
    """``alembic upgrade REVISION`` through Alembic's command API and the app's own env.py."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    command.upgrade(config, revision)


@contextmanager
def running_service() -> Iterator[Service]:
    """One cluster, one database at head, two users, the app on a free loopback port."""
    password = "pw-" + secrets.token_hex(8)
    with start_cluster() as cluster, psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
        admin.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
        url = f"postgresql://{ROLE}:{password}@{cluster.host}:{cluster.port}/{DATABASE}"
        migrate(url)
        admin_login = ("admin@example.com", "admin-" + secrets.token_hex(8))
        user_login = ("user@example.com", "user-" + secrets.token_hex(8))
        seed(url, users={admin_login[0]: (admin_login[1], True), user_login[0]: (user_login[1], False)})
        app = create_app(url, secret=secrets.token_hex(16))
        with serve_app(app) as base_url:
            yield Service(base_url, url, app, admin_login, user_login, app.state.faults)
