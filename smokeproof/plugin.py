"""The pytest entry point ``smokeproof.plugin``: the hooks and the fixture live in :mod:`smokeproof.pytest_plugin`.

Registered by the package's ``pytest11`` entry point and by the suite's ``conftest.py`` under this
one name, so the plugin loads once either way. Every name in ``hooks.__all__`` is handed on.
"""

from __future__ import annotations

from smokeproof.pytest_plugin.hooks import *  # noqa: F403
from smokeproof.pytest_plugin.hooks import __all__ as __all__
