"""The self-test Flask service, running: embedded PostgreSQL, ``flask db upgrade`` (Flask-Migrate), the app on loopback."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import flask_migrate
import psycopg
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from demo.pgcluster import start_cluster

from .app import MIGRATIONS, create_app, seed

DATABASE = "notes"
ROLE = "notes"
HEAD = "9a8b7c6d5e4f"
PREVIOUS = "3c4d5e6f7a8b"


@dataclass
class FlaskService:
    base_url: str
    database_url: str
    app: Flask
    user: tuple[str, str]  # (username, password)

    @property
    def issued(self) -> list[str]:
        """Every token, session cookie and CSRF token the app handed out."""
        issued: list[str] = self.app.extensions["selftest"]["issued"]
        return issued

    @property
    def logins(self) -> Counter[str]:
        """Login requests by kind: ``api`` (POST /api/tokens), ``web`` (POST /auth/login)."""
        logins: Counter[str] = self.app.extensions["selftest"]["logins"]
        return logins

    def migrate(self, revision: str) -> None:
        """``flask db upgrade REVISION`` (or downgrade to it), through Flask-Migrate in the app's context."""
        with self.app.app_context():
            if revision == PREVIOUS:
                flask_migrate.downgrade(directory=str(MIGRATIONS), revision=PREVIOUS)
            else:
                flask_migrate.upgrade(directory=str(MIGRATIONS), revision=revision)


class QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: object) -> None:
        pass


@contextmanager
def running_flask_service() -> Iterator[FlaskService]:
    """One cluster, one database at head, one user, the app (werkzeug, threaded) on a free loopback port."""
    password = "pw-" + secrets.token_hex(8)
    with start_cluster() as cluster, psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
        admin.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
        url = f"postgresql://{ROLE}:{password}@{cluster.host}:{cluster.port}/{DATABASE}"
        app = create_app(url, secret=secrets.token_hex(16))
        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS))
        user = ("ada", "ada-" + secrets.token_hex(8))
        seed(app, {user[0]: user[1]})
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield FlaskService(f"http://127.0.0.1:{server.port}", url, app, user)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                from .app import db

                db.engine.dispose()
