# smokeproof: two commands.
#   make smoke [ENV=name]   install, run the smoke suite (default: the bundled demo), build the report
#   make test               install, run the project's own tests
PYTHON ?= python3
VENV ?= .venv
ENV ?= demo
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install smoke test report bench lint clean baseline

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# An editable install compiles nothing; with PYTHONDONTWRITEBYTECODE set (CI images, this workplace) every
	@# pytest process would compile the package again. Compiled once here, each run reads the .pyc files.
	$(BIN)/python -m compileall -q -j 0 smokeproof demo
	touch $(STAMP)

smoke: install
	$(BIN)/pytest --env=$(ENV); status=$$?; $(BIN)/smokeproof report || true; exit $$status

report: install
	$(BIN)/smokeproof report

# Allure 3 for the HTML report, pinned by package-lock.json (skipped, with a note, without npm).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "make: npm not found: the HTML report test will be skipped"; fi

# On two workers (pytest-xdist, pinned): most self-tests wait on a subprocess, a server or a database, so
# two at once take about 150 s where one at a time took 240 to 300 s on 2 cores.
test: install node_modules/.package-lock.json
	$(BIN)/pytest -c selftests/pytest.ini -n 2 selftests

lint: install
	$(BIN)/ruff check smokeproof demo selftests tests bench
	$(BIN)/ruff format --check smokeproof demo selftests tests bench
	$(BIN)/mypy

# The demo's schema baseline ([drift] in environments/demo*.toml), remade from its own migrations.
baseline: install
	$(BIN)/smokeproof baseline --migrate "$(BIN)/alembic -c demo/alembic.ini upgrade head" --write demo/baseline.json

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) reports/allure-results reports/allure-report reports/history reports/junit.xml reports/summary.md
