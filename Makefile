# Two commands do all the set-up on a fresh machine, then run:
#   make demo   the tour of zoo (plots in ./zoo-demo)
#   make test   lint, the whole test suite, and the docs build
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint docs clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# torch first, pinned to the CPU wheel we build on; a bare `torch` requirement would pull a CUDA build
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[all,dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/zoo demo

lint: $(STAMP)
	$(VENV)/bin/ruff check zoo tests benchmarks examples

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

test: $(STAMP)
	$(VENV)/bin/ruff check zoo tests benchmarks examples
	$(PY) -m pytest tests
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) site zoo-demo
