# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test lint bench clean chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/plenary serve

# Browser tests drive Debian's chromium; install it when it is missing (CI runs as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check server tests bench
	$(BIN)/mypy server

# Redis: REDIS_URL, else 127.0.0.1:6379, else tests/conftest.py starts the embedded one.
test: $(STAMP) chromium lint
	$(BIN)/python -m pytest --cov=server --cov-report=term:skip-covered $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench fanout --clients 2000 --rate 10 --seconds 10

clean:
	rm -rf $(VENV) var .pytest_cache .coverage
