"""Credentials found by their shape: what is masked, what is left readable, what is learned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from smokeproof.config.auth import Login, Sent, Tokens
from smokeproof.config.redaction import is_jwt
from smokeproof.config.secrets import Redactor
from smokeproof.errors import UsageError
from smokeproof.http import credential_probes, judge, token_request, tokens
from smokeproof.http.contracts import EndpointContract
from smokeproof.http.exchange import Exchange

from .auth_app import mint_jwt
from .probing import environment

JWT = mint_jwt("someone")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f'{{"user": {{"token": "{JWT}"}}}}', '{"user": {"token": "eyJ…***"}}'),
        ('{"Access_Token": "opaque-value-123", "n": 1}', '{"Access_Token": "***", "n": 1}'),
        ('{"accessToken":"opaque-value-123"}', '{"accessToken":"***"}'),
        ('{"password": "pw\\"with quote", "passwordHint": "x"}', '{"password": "***", "passwordHint": "x"}'),
        ('{"client_secret": "s3cr3t-value', '{"client_secret": "***'),  # cut mid-value: still masked
        ("https://app/cb#access_token=abc123456&state=ok", "https://app/cb#access_token=***&state=ok"),
        (f"token in prose: {JWT}.", "token in prose: eyJ…***."),
        ("api.example.com and v1.2.3 and e.g.x", "api.example.com and v1.2.3 and e.g.x"),  # dotted, not JWTs
        ('{"tokens_left": 3, "token": ""}', '{"tokens_left": 3, "token": ""}'),
    ],
)
def test_shapes(text: str, masked: str) -> None:
    assert Redactor()(text) == masked
    assert Redactor()(masked) == masked  # redacting twice (a message, then the report) changes nothing more


def test_a_masked_value_is_learned_and_masked_in_any_later_context() -> None:
    redactor = Redactor()
    redactor('{"refresh_token": "opaque-refresh-9f8e7d"}')
    assert redactor("the server log says opaque-refresh-9f8e7d expired") == "the server log says *** expired"
    redactor('{"password": "short"}')  # too short to learn: masked where its shape shows, not everywhere
    assert redactor("a short answer") == "a short answer"


def test_credential_headers_keep_their_frame() -> None:
    redactor = Redactor()
    headers = redactor.headers(
        [
            ("Set-Cookie", "session=abcdef123456; Path=/; HttpOnly"),
            ("Authorization", f"Token {JWT}"),
            ("Proxy-Authorization", "Basic dXNlcjpwYXNzd29yZA=="),
            ("X-API-Key", "key with spaces 123"),
            ("Content-Type", "application/json"),
        ]
    )
    assert headers == [
        ("Set-Cookie", "session=***; Path=/; HttpOnly"),
        ("Authorization", "Token ***"),
        ("Proxy-Authorization", "Basic ***"),
        ("X-API-Key", "***"),
        ("Content-Type", "application/json"),
    ]
    assert redactor("echoed: abcdef123456") == "echoed: ***"  # the session, learned from its header


def test_redact_keys_and_patterns_from_the_environment_file(tmp_path: Path) -> None:
    env = environment(tmp_path, "http://127.0.0.1:9", '[redact]\nkeys = ["sessionKey"]\npatterns = ["sk_live_[0-9a-z]+"]\n')
    assert (
        env.redactor('{"session_key": "value-1234", "note": "sk_live_abc123 here"}')
        == '{"session_key": "***", "note": "*** here"}'
    )
    with pytest.raises(UsageError, match=r"key 'redact.patterns': Value error|not a regular expression"):
        environment(tmp_path, "http://127.0.0.1:9", '[redact]\npatterns = ["(unclosed"]\n')


def test_a_declared_tokens_header_is_masked_in_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY", "k")  # too short to be scrubbed from free text: the header still masks it
    env = environment(tmp_path, "http://127.0.0.1:9", '[auth.tokens.svc]\nvalue = "${KEY}"\nheader = "X-Svc-Auth"\n')
    assert env.redactor.headers([("x-svc-auth", "Token k")]) == [("x-svc-auth", "***")]


def test_is_jwt() -> None:
    assert is_jwt(JWT) and is_jwt(JWT.rsplit(".", 1)[0] + ".")  # alg: none has an empty signature
    assert not is_jwt("eyJub3QganNvbg.eyJ4IjoxfQ.sig")  # the header is not JSON


# --- Redact, then cut: a secret that straddles a message's cut is masked whole, never half-quoted.

SECRET = "declared-secret-value-7431"


def straddling(cut: int) -> bytes:
    return ("x" * (cut - 10) + SECRET + " tail" * 40).encode()


def answer(cut: int, status: int = 400) -> Exchange:
    return Exchange(method="GET", url="http://127.0.0.1:9/x", request_headers=(), status=status, body=straddling(cut))


def excerpt(redactor: Redactor) -> str:
    return judge._excerpt(answer(judge.BODY_CHARS), redactor)


def attachment(redactor: Redactor) -> str:
    return judge.render_exchange(answer(judge.ATTACHED_BODY_CHARS), redactor)


def probe_failure(redactor: Redactor) -> str:
    contract = EndpointContract.model_validate({"path": "/x", "status": 401})
    failure = credential_probes.Rejected(credential_probes.Credential("garbage token"), answer(400, status=500))
    verdict = credential_probes._failed("check", "never 5xx", contract, failure, redactor)
    return str(verdict.failure()) + verdict.attachments[0].body


def token_failure(redactor: Redactor) -> str:
    async def send(method: str, url: str, headers: object, content: bytes) -> Exchange:
        return answer(token_request.ANSWER_CHARS)

    login = Login("admin", Sent(), "http://127.0.0.1:9/login", {"u": "x"}, None, "/access_token")
    broker = tokens.TokenBroker(Tokens(obtained={"admin": login}), base_url=None, send=send, redactor=redactor)
    with pytest.raises(token_request.TokenUnavailable) as caught:
        asyncio.run(broker.get("admin"))
    return str(caught.value)


@pytest.mark.parametrize("render", [excerpt, attachment, probe_failure, token_failure])
def test_a_secret_across_the_cut_is_masked_whole(render: Callable[[Redactor], str]) -> None:
    text = render(Redactor([SECRET]))
    assert SECRET[:8] not in text and "***" in text
