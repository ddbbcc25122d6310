"""Property-based probes: they find the demo's deliberate decoder fault, and respect the rate ceiling."""

from __future__ import annotations

import pytest

from smokeproof.http import credential_probes

from .suite import DemoTarget, demo_target, lay_out, outcomes, run_suite

pytestmark = pytest.mark.slow


def run_probes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, target: DemoTarget) -> pytest.RunResult:
    lay_out(pytester.path)
    env = target.use(monkeypatch, pytester.path, extra="[fuzz]\nmax_examples = 40\nmax_rate_per_s = 500\n")
    return run_suite(pytester, f"--env-file={env}", "-m", "fuzz")


def test_probes_pass_on_the_healthy_demo(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, healthy_target: DemoTarget
) -> None:
    result = run_probes(pytester, monkeypatch, healthy_target)
    assert result.ret == 0
    seen = outcomes(result)
    assert seen["GET /api/v1/auth/me rejects malformed credentials"] == "passed"
    assert len(seen) == 3  # every endpoint contracted 401 to anonymous callers, nothing else


def test_probes_find_the_token_decoder_crash(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with demo_target("--revision", "head", "--build", "healthy", "--fault", "jwt-segments") as target:
        result = run_probes(pytester, monkeypatch, target)
    assert result.ret == 1
    out = result.stdout.str()
    assert "GET /api/v1/auth/me rejects malformed credentials" in out
    assert "a malformed credential got 500" in out
    assert "example:" in out and "Bearer" in out


async def test_rate_ceiling_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limiter asks for the right waits (measured on its own clock, not the machine's)."""
    now = [100.0]
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(credential_probes.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(credential_probes.asyncio, "sleep", fake_sleep)
    limit = credential_probes.RateLimit(rate=10)
    for _ in range(5):
        await limit.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.3, 0.4])  # five requests at 10/s: the last waits 0.4 s
