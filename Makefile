# The only entry points a newcomer needs:  make demo  |  make test
# Everything installs from scratch into $(VENV); nothing relies on the machine's Python packages.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install litellm debian axe browser demo test test-calendar lint format bench bench-injection mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "panel needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# llama-cpp-python compiles from source the first time (~3 min on 2 cores); pip caches the wheel.
	$(BIN)/python -m pip install --quiet -e '.[local,servers,dev]'
	touch $(STAMP)

# LiteLLM's proxy, for tests/test_servers.py only, in its own virtualenv: its ~150 dependencies
# and their pins stay out of panel's. About 3 minutes the first time on 2 cores; pip caches it.
LITELLM_VENV := .venv-litellm
LITELLM := $(LITELLM_VENV)/bin/litellm
$(LITELLM):
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install --quiet 'litellm[proxy]==1.108.7'
litellm: $(LITELLM)

# Bytecode, as a wheel install writes it: an editable install never gets any where
# PYTHONDONTWRITEBYTECODE is set, and every `panel` run would compile its modules again.
install: $(STAMP)
	@$(BIN)/python -m compileall -q panel

# Debian packages the tests use: Chromium and ChromeDriver for the real-browser site tests
# (tests/test_browser.py), libfaketime for the suite under a moved clock (make test-calendar),
# nginx for the desk behind a real reverse proxy (tests/test_desk_proxy.py: the tests run it
# as the current user with a config in a temp folder, never the system's service).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS := chromium chromium-driver faketime nginx
DEB_BINS := /usr/bin/chromium /usr/bin/chromedriver /usr/bin/faketime /usr/sbin/nginx
debian:
	@missing=0; for bin in $(DEB_BINS); do [ -x "$$bin" ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
		echo "installing Debian packages: $(DEBS)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(DEBS) >/dev/null; \
	fi

browser: debian

# axe-core (npm) for the accessibility checks in the browser tests (tests/test_site_design.py).
AXE := $(VENV)/npm/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4.14
axe: $(AXE)

# The main job on the embedded model: two real tools, four personas, a real record in runs/.
demo: install
	$(BIN)/panel tools list
	# Exit 1 (some calls failed) and 3 (a persona got no valid verdict, so the record is marked
	# incomplete) still write a record: the tiny model fails now and then.
	$(BIN)/panel review mistral-medium-3 gpt-4o-mini; code=$$?; [ $$code -eq 0 ] || [ $$code -eq 1 ] || [ $$code -eq 3 ]

# The servers tests (tests/test_servers.py) start llama-cpp-python's server, llama.cpp's
# llama-server and LiteLLM's proxy and review through them: about 25 minutes of the run on 2
# busy cores (an embedded review for the bar, then one review per server).
test: install debian axe lint litellm
	PANEL_LITELLM=$(abspath $(LITELLM)) $(BIN)/python -m pytest

# The suite again on another calendar (issue 25): the clock 400 days ahead under libfaketime
# (past a year end, into 2028, a leap year), then in UTC+14. .ci/run runs it after `make test`.
# The real servers' tests (marker servers) run once, in `make test`.
test-calendar: install debian axe
	faketime -f '+400d' $(BIN)/python -m pytest -q -m "not servers"
	TZ=Pacific/Kiritimati $(BIN)/python -m pytest -q -m "not servers"

# lint-imports checks docs/ARCHITECTURE.md's layer table (the contracts in pyproject.toml).
lint: install
	$(BIN)/ruff check panel tests benchmarks
	$(BIN)/ruff format --check panel tests benchmarks
	$(BIN)/mypy panel
	$(BIN)/lint-imports --no-cache

# Benchmarks write benchmarks/results/*.json; the README summarises them.
bench: install
	$(BIN)/python -m benchmarks.bench_runner
	$(BIN)/python -m benchmarks.bench_nightly
	$(BIN)/python -m benchmarks.bench_store
	$(BIN)/python -m benchmarks.bench_batch
	$(BIN)/python -m benchmarks.bench_site
	$(BIN)/python -m benchmarks.bench_page_weight
	$(BIN)/python -m benchmarks.bench_desk
	$(BIN)/python -m benchmarks.leak_check

# The prompt-injection benchmark on the embedded model: 296 calls, about 27 minutes on 2 cores.
# BENCHMARKS.md reports it. Resumable: calls already answered are served from runs/injection-bench.db.
bench-injection: install
	$(BIN)/python -m benchmarks.injection.run

# Mutation testing of the scoring modules (issue 21): mutmut with 2 workers, then the rule
# mutants; about 3 minutes on 2 cores. Writes benchmarks/results/mutation.json; BENCHMARKS.md
# reports it. Not part of `make test`.
mutation: install
	$(BIN)/python -m benchmarks.mutation --workers 2

format: install
	$(BIN)/ruff format panel tests benchmarks
	$(BIN)/ruff check --fix panel tests benchmarks

clean:
	rm -rf $(VENV) $(LITELLM_VENV) build *.egg-info
