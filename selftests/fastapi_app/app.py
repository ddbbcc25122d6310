"""The FastAPI app: OAuth2 password login, a protected route, an admin route, public response models.

``faults`` (a set on the app's state) makes it misbehave on purpose, for the tests that must see a
check fail on it: ``bad-email`` answers ``/api/v1/utils/contact`` with an address that is not one.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies' annotations at runtime,
# and they name functions local to create_app.
import datetime as dt
import hashlib
import hmac
import os
import uuid
from typing import Annotated, Any

import jwt
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, EmailStr

TOKEN_LIFETIME = dt.timedelta(days=8)
ALGORITHM = "HS256"
ITERATIONS = 10_000


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserPublic(BaseModel):
    id: int
    email: EmailStr
    full_name: str | None = None
    is_superuser: bool


class ItemPublic(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None = None
    status: str
    owner_id: int


class Contact(BaseModel):
    email: EmailStr
    team: str


class ItemCreate(BaseModel):
    title: str
    description: str | None = None


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"{salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    salt, _, digest = stored.partition("$")
    return hmac.compare_digest(hash_password(password, salt=bytes.fromhex(salt)), f"{salt}${digest}")


def create_app(database_url: str, *, secret: str) -> FastAPI:
    """The app on ``database_url`` (a postgresql:// URL, read with psycopg); tokens signed with ``secret``."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=4)
    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/login/access-token")
    app = FastAPI(title="self-test service")
    app.state.faults = set()
    api = APIRouter(prefix="/api/v1")

    def rows(sql: str, **params: Any) -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]

    def current_user(token: Annotated[str, Depends(oauth2)]) -> dict[str, Any]:
        try:
            user_id = int(jwt.decode(token, secret, algorithms=[ALGORITHM])["sub"])
        except (jwt.PyJWTError, KeyError, ValueError):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Could not validate credentials") from None
        found = rows("SELECT * FROM users WHERE id = :id AND is_active", id=user_id)
        if not found:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Could not validate credentials")
        return found[0]

    def superuser(user: Annotated[dict[str, Any], Depends(current_user)]) -> dict[str, Any]:
        if not user["is_superuser"]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "The user doesn't have enough privileges")
        return user

    @api.post("/login/access-token", response_model=Token, tags=["login"])
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
        found = rows("SELECT id, hashed_password FROM users WHERE email = :email AND is_active", email=form.username)
        if not found or not verify_password(form.password, found[0]["hashed_password"]):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "Incorrect email or password")
        expires = dt.datetime.now(dt.UTC) + TOKEN_LIFETIME
        return Token(access_token=jwt.encode({"sub": str(found[0]["id"]), "exp": expires}, secret, algorithm=ALGORITHM))

    @api.get("/users/me", response_model=UserPublic, tags=["users"])
    def me(user: Annotated[dict[str, Any], Depends(current_user)]) -> dict[str, Any]:
        return user

    @api.get("/users/", response_model=list[UserPublic], tags=["users"])
    def users(_: Annotated[dict[str, Any], Depends(superuser)]) -> list[dict[str, Any]]:
        return rows("SELECT * FROM users ORDER BY id")

    @api.get("/items/", response_model=list[ItemPublic], tags=["items"])
    def items(skip: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return rows("SELECT * FROM items ORDER BY created_at, id OFFSET :skip LIMIT :limit", skip=skip, limit=limit)

    @api.get("/items/{item_id}", response_model=ItemPublic, tags=["items"])
    def item(item_id: uuid.UUID) -> dict[str, Any]:
        found = rows("SELECT * FROM items WHERE id = :id", id=item_id)
        if not found:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Item not found")
        return found[0]

    @api.post("/items/", response_model=ItemPublic, tags=["items"])
    def create_item(body: ItemCreate, user: Annotated[dict[str, Any], Depends(current_user)]) -> dict[str, Any]:
        new = {"id": uuid.uuid4(), "title": body.title, "description": body.description, "owner_id": user["id"]}
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO items (id, title, description, owner_id) VALUES (:id, :title, :description, :owner_id)"), new
            )
        return {**new, "status": "draft"}

    @api.get("/utils/contact", response_model=Contact, tags=["utils"])
    def contact(request: Request) -> Any:
        if "bad-email" in request.app.state.faults:
            return JSONResponse({"email": "support at example dot com", "team": "platform"})  # bypasses the model
        return Contact(email="support@example.com", team="platform")

    @api.get("/utils/health-check/", tags=["utils"])
    def health() -> bool:
        return True

    app.include_router(api)
    return app


def seed(database_url: str, *, users: dict[str, tuple[str, bool]]) -> None:
    """Insert ``users`` (email -> (password, is_superuser)) and one published item each."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for email, (password, admin) in users.items():
            user_id = conn.execute(
                sa.text("INSERT INTO users (email, hashed_password, is_superuser) VALUES (:e, :p, :a) RETURNING id"),
                {"e": email, "p": hash_password(password), "a": admin},
            ).scalar_one()
            conn.execute(
                sa.text("INSERT INTO items (id, title, status, owner_id) VALUES (:id, :t, 'published', :o)"),
                {"id": uuid.uuid4(), "t": f"{email}'s first item", "o": user_id},
            )
    engine.dispose()
