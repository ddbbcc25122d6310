"""``python -m selftests.fastapi_app``: run the self-test service by hand (to try ``smokeproof init`` on it).

Prints one JSON line, ``{"base_url": ..., "database_url": ..., "env": {...}}`` (the users' emails and
passwords in ``env``), then serves until its standard input closes or it is interrupted: the same
protocol as an environment file's ``[start]`` table.
"""

from __future__ import annotations

import contextlib
import json
import sys

from .server import running_service


def main() -> None:
    with running_service() as service:
        env = {
            "ADMIN_EMAIL": service.admin[0],
            "ADMIN_PASSWORD": service.admin[1],
            "USER_EMAIL": service.user[0],
            "USER_PASSWORD": service.user[1],
        }
        print(json.dumps({"base_url": service.base_url, "database_url": service.database_url, "env": env}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()


if __name__ == "__main__":
    main()
