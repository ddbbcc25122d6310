"""``python -m selftests.flask_app``: run the self-test Flask service by hand (to try ``smokeproof init`` on it).

Prints one JSON line, ``{"base_url": ..., "database_url": ..., "env": {...}}`` (the user's name and password in
``env``), then serves until its standard input closes or it is interrupted: the same protocol as an
environment file's ``[start]`` table. Its migrations folder (Flask-Migrate's layout) is
``selftests/flask_app/migrations``.
"""

from __future__ import annotations

import contextlib
import json
import sys

from .server import running_flask_service


def main() -> None:
    with running_flask_service() as service:
        env = {"NOTES_USER": service.user[0], "NOTES_PASSWORD": service.user[1]}
        print(json.dumps({"base_url": service.base_url, "database_url": service.database_url, "env": env}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()


if __name__ == "__main__":
    main()
