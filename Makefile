# The one entry point for people and CI: install, run, test, lint, format, bench, clean.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint format bench bench-corpus clean

install: $(STAMP)

# (Re)create the virtualenv when missing or when the dependencies change.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "aibox needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,st]'
	@touch $(STAMP)

run: install
	$(VENV)/bin/aibox up

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything that needs no Celery worker (the embedded Redis server still runs): the lane
# to run while editing. `make test` runs it all.
test-fast: install
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Quick mode by default (about 20 minutes on 2 cores); BENCH_ARGS=--full for the full sizes.
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,st,bench]'
	@touch $(BENCH_STAMP)

# The benchmark corpora are Debian packages (documents nobody here wrote; see bench/corpus.py
# and bench/retrieval_corpus.py); Chromium prints some of them to PDF. Installed when missing
# and apt-get can run; otherwise the benchmark names what is missing and skips it.
BENCH_PACKAGES := python3.11-doc debian-reference-zh-tw debian-handbook manpages-zh git-doc \
	groff-base chromium fonts-wqy-microhei

bench-corpus:
	@missing=""; for p in $(BENCH_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing the benchmark corpora:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "benchmark corpora missing (apt-get install$$missing); those parts will be skipped"; \
		fi; \
	fi

bench: $(BENCH_STAMP) bench-corpus
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
