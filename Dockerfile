# smokeproof as a container: the suite (tests/, environments/), the engine and its pinned dependencies.
#   docker build -t smokeproof .
#   docker run --rm -e PROD_DATABASE_URL -e SMOKE_TOKEN smokeproof --env=prod
# The entry point is pytest, so the image's command is the README's: `pytest --env=prod`.
# Runs as a non-root user; reports are written to /suite/reports (mount a volume to keep them).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTEST_ADDOPTS="-p no:cacheprovider"

WORKDIR /suite

# Dependencies first (a layer that changes only with the lock file), pinned by requirements.lock:
# used as constraints, so only what the engine needs is installed (no demo, no dev tools).
COPY requirements.lock pyproject.toml README.md ./
COPY smokeproof ./smokeproof
RUN pip install --constraint requirements.lock . \
    && useradd --create-home --uid 10001 smoke \
    && mkdir reports && chown smoke reports

COPY pytest.ini conftest.py ./
COPY tests ./tests
COPY environments ./environments

USER 10001
ENTRYPOINT ["pytest"]
CMD ["--env=prod"]
