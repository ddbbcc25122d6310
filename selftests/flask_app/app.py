"""The Flask app: an API whose token comes from ``POST /api/tokens`` with HTTP Basic (sent back as Bearer),
and a server-rendered web UI whose login is a CSRF-protected form answered by a 302 and a ``session`` cookie.

The token lookup reads ``tokens.revoked_at`` (the second migration): on a database one migration behind,
every request with a bearer token answers 500, as the incident's routes did. ``issued`` records every
secret the app hands out (tokens, session cookies, CSRF tokens) so the self-tests can look for them in
the suite's output; ``logins`` counts the login requests.
"""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, jsonify, redirect, render_template_string, request, session
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect, generate_csrf
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HASH_METHOD = "pbkdf2:sha256:10000"
LOGIN_PAGE = """<!doctype html>
<title>Sign in</title>
<form method="post" action="/auth/login">
  {{ form.csrf_token }}
  <label>User {{ form.username() }}</label>
  <label>Password {{ form.password() }}</label>
  <button>Sign in</button>
</form>
"""

db = SQLAlchemy()


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])


def create_app(database_url: str, *, secret: str) -> Flask:
    """The app on ``database_url`` (postgresql://, read with psycopg)."""
    app = Flask(__name__)
    app.logger.disabled = True  # a 500 is what some self-tests provoke: its traceback is noise there
    app.config.update(
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 4},
    )
    db.init_app(app)
    Migrate(app, db, directory=str(MIGRATIONS))
    csrf = CSRFProtect(app)
    issued: list[str] = []
    logins: Counter[str] = Counter()
    app.extensions["selftest"] = {"issued": issued, "logins": logins}

    def user_id(username: str, password: str) -> int | None:
        row = db.session.execute(sa.text("SELECT id, password_hash FROM users WHERE username = :u"), {"u": username}).first()
        return row.id if row is not None and check_password_hash(row.password_hash, password) else None

    @app.after_request
    def remember_cookies(response: Response) -> Response:
        for header in response.headers.getlist("Set-Cookie"):
            value = header.split(";", 1)[0].partition("=")[2]
            if value:
                issued.append(value)
        return response

    @app.post("/api/tokens")
    @csrf.exempt
    def new_token() -> Any:
        logins["api"] += 1
        auth = request.authorization
        uid = user_id(auth.username or "", auth.password or "") if auth is not None and auth.type == "basic" else None
        if uid is None:
            return jsonify(error="invalid credentials"), 401, {"WWW-Authenticate": 'Basic realm="api"'}
        token = secrets.token_hex(20)
        issued.append(token)
        # Written without revoked_at, as the first migration's code did: the login itself works one migration behind.
        db.session.execute(sa.text("INSERT INTO tokens (token, user_id) VALUES (:t, :u)"), {"t": token, "u": uid})
        db.session.commit()
        return jsonify(token=token)

    def bearer_user() -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        row = db.session.execute(
            sa.text("SELECT u.username, t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token = :t"),
            {"t": token},
        ).first()
        return row.username if row is not None and row.revoked_at is None else None

    @app.get("/api/me")
    def me() -> Any:
        if not request.headers.get("Authorization"):
            return jsonify(error="not authenticated"), 401
        username = bearer_user()
        if username is None:
            return jsonify(error="invalid token"), 401
        return jsonify(username=username)

    @app.get("/api/notes")
    def notes() -> Any:
        rows = db.session.execute(sa.text("SELECT id, body FROM notes ORDER BY id")).all()
        return jsonify([{"id": r.id, "body": r.body} for r in rows])

    @app.route("/auth/login", methods=["GET", "POST"])
    def login() -> Any:
        form = LoginForm()
        if request.method == "GET":
            issued.append(generate_csrf())
            return render_template_string(LOGIN_PAGE, form=form)
        logins["web"] += 1
        if form.validate_on_submit():
            uid = user_id(form.username.data or "", form.password.data or "")
            if uid is not None:
                session.clear()
                session["user_id"] = uid
                return redirect("/dashboard")
        return render_template_string(LOGIN_PAGE, form=form), 401

    @app.get("/dashboard")
    def dashboard() -> Any:
        uid = session.get("user_id")
        if uid is None:
            return redirect("/auth/login")
        name = db.session.execute(sa.text("SELECT username FROM users WHERE id = :i"), {"i": uid}).scalar()
        g.user = name
        return f"<!doctype html><h1>Dashboard of {name}</h1>"

    return app


def seed(app: Flask, users: dict[str, str]) -> None:
    """Users (name -> password) and two notes, written through the app's own engine."""
    with app.app_context():
        for name, password in users.items():
            db.session.execute(
                sa.text("INSERT INTO users (username, password_hash) VALUES (:u, :p)"),
                {"u": name, "p": generate_password_hash(password, method=HASH_METHOD)},
            )
        db.session.execute(sa.text("INSERT INTO notes (body) VALUES ('first'), ('second')"))
        db.session.commit()
