# Two commands do all the set-up on a fresh machine, then run:
#   make demo   the tour of zoo (plots in ./zoo-demo)
#   make test   lint, the whole test suite, and the docs build
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint docs clean browser

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# torch first, pinned to the CPU wheel we build on; a bare `torch` requirement would pull a CUDA build
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[all,dev]"
	touch $(STAMP)

# the browser test (tests/ranking/test_browser.py) drives Debian's chromium through its chromedriver, with
# Selenium from the dev extra; nothing is downloaded at test time. Installed only when missing; sudo if not root.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "installing chromium and chromium-driver (apt-get) for the browser test"; \
	  $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

setup: $(STAMP) browser

demo: $(STAMP)
	$(VENV)/bin/zoo demo

lint: $(STAMP)
	$(VENV)/bin/ruff check zoo tests benchmarks examples
	$(VENV)/bin/ruff format --check zoo tests benchmarks examples

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

test: $(STAMP) browser
	$(VENV)/bin/ruff check zoo tests benchmarks examples
	$(VENV)/bin/ruff format --check zoo tests benchmarks examples
	$(PY) -m pytest tests
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) site zoo-demo
