"""What lives for the whole run is left out of the garbage collector's passes.

By the end of collection the process holds what the run keeps until it exits: pytest's items with
their marks, ids and call specs, the contracts, every imported module. At 1,000 contracts that is
some 600,000 objects, and CPython's cyclic collector walks all of them on each full collection
during the run, on pytest's own pass at the end (its unraisable-exception check), and once more as
the interpreter shuts down: about 0.3 s of a 1,000-endpoint run, half of it after the last test.
``gc.freeze()`` at the end of collection moves them to the permanent generation, which no
collection visits; what the tests allocate is collected as usual.

A process that goes on after the run (``pytest.main()`` called by another program, pytester's
in-process runs) gets them back at unconfigure (``gc.unfreeze()``), so that nothing of the run
outlives it there. A ``pytest`` command ends with the run and skips that last walk.
"""

from __future__ import annotations

import gc
import sys

import pytest

FROZEN = pytest.StashKey[bool]()


def freeze(config: pytest.Config) -> None:
    """Once the selection is known (tests will run): leave what exists now out of every later collection."""
    if not config.stash.get(FROZEN, False):
        gc.freeze()
        config.stash[FROZEN] = True


def release(config: pytest.Config) -> None:
    """At unconfigure: give the frozen objects back to the collector, unless the process ends with this run."""
    if config.stash.get(FROZEN, False) and not _process_ends_with(config):
        gc.unfreeze()
        config.stash[FROZEN] = False


def _process_ends_with(config: pytest.Config) -> bool:
    """Whether this run is the ``pytest`` command itself (its arguments are the process's own)."""
    return tuple(config.invocation_params.args) == tuple(sys.argv[1:])
