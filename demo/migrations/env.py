"""Alembic environment of the demo target: online migrations only.

The URL comes from the caller (demo/migrate.py), from sqlalchemy.url, or from DATABASE_URL (the
alembic command line: ``alembic -c demo/alembic.ini upgrade head``).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
if url.startswith(("postgresql://", "postgres://")):
    url = "postgresql+psycopg://" + url.split("://", 1)[1]
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
