"""``python -m smokeproof.cli``: the same as the ``smokeproof`` command."""

from smokeproof.cli.main import main

raise SystemExit(main())
