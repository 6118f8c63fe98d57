# retail_connect — the single entry point. `make help` lists the targets.
PYTHON ?= python3
ADDONS ?=
PYTEST_ARGS ?=

.PHONY: help test test-odoo-runner demo demo-reset lint bench deps

help:
	@echo "make test    - install deps, run every addon's tests (pytest-odoo), print the summary"
	@echo "make test ADDONS=retail_connect_base  - one addon's tests"
	@echo "make test ODOO_RUNNER=1 - also run the same tests with Odoo's --test-tags runner (CI does)"
	@echo "make demo    - PostgreSQL + demo database + sandboxes + Odoo on http://127.0.0.1:8069"
	@echo "make lint    - ruff and pylint-odoo's mandatory checks"
	@echo "make bench   - benchmarks (see bench/README.md)"

deps:
	$(PYTHON) -c "import sys; sys.path.insert(0, 'tools'); import devenv; devenv.check_odoo(); devenv.install_deps()"

test:
	$(PYTHON) tools/devenv.py test $(if $(ODOO_RUNNER),--odoo-runner) $(if $(ADDONS),--addons $(ADDONS)) -- $(PYTEST_ARGS)

test-odoo-runner:
	$(MAKE) test ODOO_RUNNER=1

demo:
	$(PYTHON) tools/devenv.py demo

demo-reset:
	$(PYTHON) tools/devenv.py demo --reset

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m pylint --rcfile=.pylintrc-mandatory retail_connect_* tests/addons/*

bench:
	$(PYTHON) tools/devenv.py check --bench
	$(PYTHON) bench/run.py
