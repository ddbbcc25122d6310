"""Flask-Migrate's env.py, trimmed: the engine and metadata come from the running Flask app."""

from alembic import context
from flask import current_app

migrate = current_app.extensions["migrate"]


def run_migrations_online() -> None:
    with migrate.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=migrate.db.metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline mode is not used by the self-test app")
run_migrations_online()
