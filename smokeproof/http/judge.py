"""Judging an :class:`~smokeproof.http.probe.Exchange` against its contract.

Every difference is listed at once (status, content type, body shape, body text, latency), and
the worst one names the failure's category: an endpoint contracted to reject anonymous callers
that answers 2xx is an *authorization leak*, not a plain status mismatch.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from smokeproof.config.secrets import Redactor
from smokeproof.http import json_body, tokens
from smokeproof.http.contracts import ANONYMOUS_REJECTIONS, EndpointContract
from smokeproof.verdict import Area, Attachment, Category, Verdict

if TYPE_CHECKING:  # the prober (and httpx under it) loads only in runs that send requests
    from smokeproof.http.probe import Exchange

# When several problems are found, the first of these names the failure's category.
PRIORITY = (Category.UNREACHABLE, Category.AUTH_LEAK, Category.SERVER_ERROR, Category.CONTRACT, Category.SLOW)
BODY_LINES = 8
BODY_CHARS = 600
ATTACHED_BODY_CHARS = 4000  # of the answer, in the report's request-and-response attachment

MEANING = {
    Category.UNREACHABLE: "the suite could not reach the deployment at all: nothing else about it is known",
    Category.AUTH_LEAK: "anyone on the internet gets what this route protects: the authorization check is missing or broken",
    Category.SERVER_ERROR: "the server failed while handling the request: users of this route get an error instead of an answer",
    Category.SLOW: "the endpoint answers, but slower than its budget: users wait, and timeouts upstream may fire",
    Category.CONTRACT: "the deployment answers differently from what its clients expect",
}
TODO = {
    Category.UNREACHABLE: "check that the deployment is up and that base_url is right; then rerun",
    Category.AUTH_LEAK: "block promotion; check how the route authenticates callers (its decorator, dependency or middleware)",
    Category.SERVER_ERROR: "read the server log for this request; a missing table or column also fails the schema checks",
    Category.SLOW: "look at what this endpoint waits on (database, upstream calls), or raise max_ms if the budget is wrong",
    Category.CONTRACT: "compare the change that was deployed with this contract; fix whichever is wrong",
}


def expected_text(contract: EndpointContract, budget_ms: int, warn_ms: int | None = None) -> str:
    parts = ["/".join(str(s) for s in contract.status)]
    if contract.content_type:
        parts.append(contract.content_type)
    if contract.json_schema is not None:
        parts.append("body matches schema")
    parts.append(f"< {budget_ms} ms" + (f" (warn {warn_ms} ms)" if warn_ms is not None and warn_ms < budget_ms else ""))
    return ", ".join(parts)


Problem = tuple[Category, str]


def judge(
    contract: EndpointContract,
    exchange: Exchange,
    *,
    default_max_ms: int,
    redactor: Redactor,
    default_warn_ms: int | None = None,
) -> Verdict:
    """The verdict for one endpoint contract: every aspect of the answer checked, the worst naming the category.

    An answer that meets the contract but took longer than ``warn_ms`` (the entry's, else ``[http]``'s)
    passes as degraded.
    """
    if exchange.auth_setup is not None:
        return tokens.setup_failure(contract, exchange.auth_setup)
    budget = contract.max_ms or default_max_ms
    warn = contract.warn_ms or default_warn_ms
    if exchange.error is not None:
        problems = [transport_problem(exchange)]
    else:
        problems = [*status_problem(contract, exchange), *redirect_problem(exchange, redactor)]
        if not problems:
            problems.extend(_body_problems(contract, exchange, redactor))
    problems.extend(latency_problem(exchange, budget))
    category = min((c for c, _ in problems), key=PRIORITY.index) if problems else None
    slow = not problems and warn is not None and warn < budget and exchange.elapsed_ms > warn
    return Verdict(
        check=contract.test_id,
        area=Area.ENDPOINTS,
        expected=expected_text(contract, budget, warn),
        actual=redactor(_actual(exchange)),  # an Allure parameter: no later scrub reaches it
        ok=not problems,
        headline=_headline(contract, exchange, problems, redactor),
        sections=_sections(contract, exchange, problems, category, budget, redactor),
        category=category,
        severity=contract.severity,
        feature=contract.feature,
        story=contract.id,
        attachments=(Attachment(name="request and response", body=render_exchange(exchange, redactor)),),
        window=exchange.wall_window(),
        degraded=f"took {exchange.elapsed_ms:.0f} ms, over warn_ms {warn} ms (budget {budget} ms)" if slow else "",
        degraded_category=Category.SLOW,
    )


def transport_problem(exchange: Exchange) -> Problem:
    """No answer: an unreachable target, or an answer that broke off or never completed."""
    assert exchange.error is not None
    return (Category.UNREACHABLE if exchange.unreachable else Category.SERVER_ERROR, exchange.error)


def status_problem(contract: EndpointContract, exchange: Exchange) -> list[Problem]:
    """A status outside the contract: 2xx where anonymous callers must be rejected is an authorization leak."""
    status = exchange.status
    assert status is not None
    if status in contract.status:
        return []
    expected = " or ".join(str(s) for s in contract.status)
    if set(contract.status) <= ANONYMOUS_REJECTIONS and 200 <= status < 300:
        return [(Category.AUTH_LEAK, f"answered {status} where {expected} was contracted")]
    return [(Category.SERVER_ERROR if status >= 500 else Category.CONTRACT, f"status {status}, expected {expected}")]


def redirect_problem(exchange: Exchange, redactor: Redactor) -> list[Problem]:
    """A redirect the entry follows that leaves its origin: not followed (the request carries its credentials)."""
    if not exchange.offsite_redirect:
        return []
    target = redactor(exchange.offsite_redirect)
    if urlsplit(exchange.offsite_redirect).hostname == urlsplit(exchange.url).hostname:
        return [(Category.CONTRACT, f"redirects off its origin (https to http, or another port): {target} (not followed)")]
    return [(Category.CONTRACT, f"redirects to another host: {target} (not followed)")]


def latency_problem(exchange: Exchange, budget_ms: int) -> list[Problem]:
    """Slower than the latency budget (also for a request that failed: the time it took is real)."""
    if exchange.error is not None or exchange.elapsed_ms <= budget_ms:
        return []
    return [(Category.SLOW, f"took {exchange.elapsed_ms:.0f} ms, budget {budget_ms} ms")]


def _actual(exchange: Exchange) -> str:
    if exchange.error is not None:
        return "unreachable" if exchange.unreachable else exchange.error
    return f"{exchange.status} in {exchange.elapsed_ms:.0f} ms"


def _headline(contract: EndpointContract, exchange: Exchange, problems: list[Problem], redactor: Redactor) -> str:
    """``GET https://host/path: expected 401, got 500 in 84 ms``, or the first problem when the status was right."""
    where = f"{exchange.method} {redactor(exchange.url)}"
    elapsed = f"{exchange.elapsed_ms:.0f} ms"
    if exchange.error is not None:
        return f"{where}: {exchange.error} after {elapsed}"
    expected = " or ".join(str(s) for s in contract.status)
    if exchange.status not in contract.status:
        leak = "authorization leak: " if problems and problems[0][0] is Category.AUTH_LEAK else ""
        return f"{where}: {leak}expected {expected}, got {exchange.status} in {elapsed}"
    if problems:
        return f"{where}: {exchange.status} in {elapsed}, but {problems[0][1]}"
    return f"{where}: expected {expected}, got {exchange.status} in {elapsed}"


def _sections(
    contract: EndpointContract,
    exchange: Exchange,
    problems: list[Problem],
    category: Category | None,
    budget_ms: int,
    redactor: Redactor,
) -> tuple[tuple[str, str], ...]:
    status_in_headline = exchange.error is None and exchange.status not in contract.status
    listed = problems[1:] if status_in_headline else problems
    actual = _actual(exchange) if exchange.error else f"{_actual(exchange)}, content type {exchange.content_type or '(none)'}"
    sections = [
        ("expected", expected_text(contract, budget_ms, contract.warn_ms)),
        ("actual", actual),
        ("also" if status_in_headline else "problems", "\n".join(f"- {text}" for _, text in listed)),
        ("body (first lines, redacted)", _excerpt(exchange, redactor)),
    ]
    if category is not None:
        sections += [("what it means", MEANING.get(category, "")), ("what to do", TODO.get(category, ""))]
    return tuple(sections)


def _body_problems(contract: EndpointContract, exchange: Exchange, redactor: Redactor) -> list[tuple[Category, str]]:
    problems: list[tuple[Category, str]] = []
    if contract.content_type and not media_matches(contract.content_type, exchange.content_type):
        media = media_type(exchange.content_type)[0]
        shown = exchange.content_type if media == media_type(contract.content_type)[0] else media  # parameters when they differ
        problems.append((Category.CONTRACT, f"content type {shown or '(none)'}, expected {contract.content_type}"))
    if contract.json_schema is not None:
        problems.extend((Category.CONTRACT, p) for p in _schema_problems(contract.json_schema, exchange, redactor))
    for needle in contract.body_contains:
        if needle not in exchange.text:
            problems.append((Category.CONTRACT, f"body does not contain {json_body.as_json(needle, redactor)}"))
    return problems


def media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower case) and the parameters (names in lower case, values unquoted) of a ``Content-Type``."""
    header = Message()
    header["content-type"] = value
    (media, _), *params = header.get_params(failobj=[("", "")])
    return media.strip().lower(), {name.strip().lower(): str(param).strip() for name, param in params}


def media_matches(expected: str, actual: str) -> bool:
    """The answer's media type is the contract's (case-insensitive; ``text/*`` and ``*/*`` are ranges), with every
    parameter the contract names.

    ``charset`` compares case-insensitively (RFC 9110 8.3.2); other parameter values as written. The
    answer may carry parameters the contract does not name.
    """
    want, want_params = media_type(expected)
    got, got_params = media_type(actual)
    kind, _, subtype = want.partition("/")
    if not (want == got or (subtype == "*" and (kind == "*" or got.partition("/")[0] == kind) and "/" in got)):
        return False
    for name, value in want_params.items():
        have = got_params.get(name)
        if have is None or (have.lower() != value.lower() if name == "charset" else have != value):
            return False
    return True


def _schema_problems(schema: dict[str, Any], exchange: Exchange, redactor: Redactor) -> list[str]:
    if exchange.truncated:
        return [f"body larger than the {len(exchange.body)} byte cap; not parsed"]
    try:
        document = json.loads(exchange.body)
    except ValueError as exc:
        return [f"body is not valid JSON ({exc.__class__.__name__}: {str(exc)[:80]})"]
    return json_body.problems(schema, document, redact=redactor)


def _excerpt(exchange: Exchange, redactor: Redactor) -> str:
    if not exchange.body:
        return ""
    text = exchange.text
    lines = redactor.clip(text, BODY_CHARS, more="").splitlines()[:BODY_LINES]
    more = " ..." if exchange.truncated or len(text) > BODY_CHARS else ""
    return "\n".join(lines) + more


def render_exchange(exchange: Exchange, redactor: Redactor) -> str:
    """The redacted request and response, as attached to the report."""
    lines = [f"> {exchange.method} {redactor(exchange.url)}"]
    lines += [f"> {k}: {v}" for k, v in redactor.headers(exchange.request_headers)]
    if exchange.error:
        lines.append(f"! {redactor(exchange.error)}")
    else:
        lines.append(f"< {exchange.status}  ({exchange.elapsed_ms:.0f} ms)")
        lines += [f"< {k}: {v}" for k, v in redactor.headers(exchange.response_headers)]
        text, cap = exchange.text, ATTACHED_BODY_CHARS
        lines += ["", redactor.clip(text, cap, more="") + (" ... (truncated)" if exchange.truncated or len(text) > cap else "")]
    return "\n".join(lines)
