"""No silent check: a kind the environment configures but no collected test carries stops the run (exit 4).

Runs where collection happens, first among the hooks that deselect; tests deselected before it (a
shard's selection, ``--deselect``) still carry their kind (``pytest_deselected`` records them).
Narrowing on purpose is no silent check: test paths named on the command line and ``-k`` (no check
then), and a ``-m`` expression that leaves the kind's markers out (``-m 'not drift'``). Under
pytest-xdist collection happens on the workers: a worker empties its selection and hands its finding
to the controller (``workeroutput``), which ends the run with exit status 4 and the same message
instead of crashing the worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from smokeproof.kinds import KINDS, Kind
from smokeproof.pytest_plugin.settings import Settings

WORKER_KEY = "smokeproof_unchecked"  # in a worker's workeroutput


def missing(settings: Settings, items: Sequence[pytest.Item], *, markexpr: str = "", deselected: Iterable[str] = ()) -> list[str]:
    """One line per configured kind that no collected test carries, naming the module to add."""
    carried = {name for item in items for name in getattr(item, "fixturenames", ())} | set(deselected)
    lines = []
    for kind in KINDS:
        why = kind.configured(settings)
        if why is not None and kind.parameter not in carried and _selected(kind, markexpr):
            lines.append(f"{kind.name}: configured ({why}), but no collected test checks it: add {kind.module}")
    return lines


def _selected(kind: Kind, markexpr: str) -> bool:
    """Whether ``-m markexpr`` would select the kind's tests (an unparsable one: pytest itself says so)."""
    if not markexpr:
        return True
    from _pytest.mark.expression import Expression  # pytest's own -m grammar

    def marked(name: str, /, **_: str | int | bool | None) -> bool:
        return name in kind.markers

    try:
        return Expression.compile(markexpr).evaluate(marked)
    except Exception:
        return True


def message(settings: Settings, lines: Sequence[str]) -> str:
    listing = "\n".join(f"  - {line}" for line in lines)
    return (
        f"smokeproof: environment {settings.env.name} configures checks that this suite never runs:\n{listing}\n"
        "  `smokeproof init --update` adds every missing thin module and touches nothing else "
        "(to leave a kind out on purpose, deselect it: -m 'not drift')"
    )


def check(config: pytest.Config, settings: Settings, items: list[pytest.Item], *, deselected: Iterable[str] = ()) -> None:
    """Raise a usage error (exit 4) when a configured kind is carried by no collected test (see the module).

    In an xdist worker, the items are emptied instead (nothing runs) and the message goes to the controller.
    """
    if config.args_source == pytest.Config.ArgsSource.ARGS or config.getoption("keyword"):  # narrowed on purpose
        return
    lines = missing(settings, items, markexpr=config.getoption("markexpr"), deselected=deselected)
    if not lines:
        return
    text = settings.env.redactor(message(settings, lines))
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller ends the run
        workeroutput[WORKER_KEY] = text
        items.clear()
        return
    raise pytest.UsageError(text)


def from_worker(node: object) -> str | None:
    """What an xdist worker found (``pytest_testnodedown``), or None."""
    output = getattr(node, "workeroutput", None)
    return output.get(WORKER_KEY) if isinstance(output, dict) else None
