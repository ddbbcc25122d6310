"""A small FastAPI service the suite did not grow up with, for the adoption self-tests.

Shaped like FastAPI's full-stack template: an OAuth2 password login at
``/api/v1/login/access-token`` (tokens valid 8 days), ``/api/v1/users/me`` for a logged-in user,
an admin route that answers 403 to other users, public GET routes with response models (one field
``format: email``), routes with path parameters and a POST, and its own Alembic migrations
(``migrations/``) applied to embedded PostgreSQL.
"""
