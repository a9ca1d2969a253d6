# Two commands do all the set-up on a fresh clone: `make book` and `make test`.
# Both create .venv from requirements.txt when it is missing and install convlab into it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.convlab-installed
NOTEBOOKS := $(wildcard book/*.ipynb)
# site checks (issue 8): Chromium for `browser`, the Colab-like environment for `test-colab`
CHROMIUM ?= /usr/bin/chromium
SITE ?= _build/html
COLAB_VENV := .venv-colab
COLAB_BIN := $(COLAB_VENV)/bin
COLAB_STAMP := $(COLAB_VENV)/.convlab-colab-installed
COLAB_CHAPTER := book/01_what_is_a_convolution.ipynb
# Colab's pip (pip 23 rejects the set-up cell's requirement with a git+file:// URL)
COLAB_PIP := pip==24.1.2
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
	mkdir -p _build
	set -o pipefail; $(BIN)/jupyter-book build --all -W -n --keep-going . 2>&1 | tee _build/build.log

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

## site-check: the built site's budgets, links, outputs, Colab links (after `make build`)
site-check: venv
	CONVLAB_SITE=$(SITE) $(BIN)/pytest -q -p no:cacheprovider tests/site

## browser: every built page in headless Chromium (installed from Debian when missing)
browser: venv
	command -v $(CHROMIUM) >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	CHROMIUM=$(CHROMIUM) $(BIN)/python tools/browser_check.py --site $(SITE) --screenshots _build/screenshots

## test-colab: Colab's versions (ipywidgets 7.7.1, numpy 2.1, matplotlib 3.10) in .venv-colab
$(COLAB_STAMP): requirements-colab.txt
	test -x $(COLAB_BIN)/python || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_BIN)/python -m pip install -q $(COLAB_PIP)
	$(COLAB_BIN)/python -m pip install -q -r requirements-colab.txt
	touch $(COLAB_STAMP)

test-colab: venv $(COLAB_STAMP)
	$(BIN)/python tools/colab_check.py --python $(COLAB_BIN)/python
	MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1 $(COLAB_BIN)/python -m pytest -q -p no:cacheprovider tests/test_widgets_*.py
	PYDEVD_DISABLE_FILE_VALIDATION=1 $(COLAB_BIN)/python -m pytest --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=300 -p no:cacheprovider -q $(COLAB_CHAPTER)

## bench: the performance benchmarks (results and tables in benchmarks/results/)
bench: venv
	$(BIN)/python benchmarks/ladder.py
	$(BIN)/python benchmarks/backward.py
	$(BIN)/python benchmarks/functional.py --threads 1
	$(BIN)/python benchmarks/functional.py --threads 2 --out benchmarks/results/functional_cpu_2threads

clean:
	rm -rf _build

## lab: every chapter's live widgets moved in a real Jupyter front end in headless Chromium,
## both widget protocols (JupyterLab 4 + ipywidgets 8; the .venv-colab kernel with
## ipywidgets 7.7.1 and its own front end); report and screenshots in _build/lab
.PHONY: lab
test: lab
lab: venv $(COLAB_STAMP)
	command -v $(CHROMIUM) >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	@# the Colab kernel imports this working tree's convlab (test-colab leaves it so; a fresh clone needs it)
	$(COLAB_BIN)/python -c "import convlab, sys; sys.exit(not convlab.__file__.startswith('$(CURDIR)/src/'))" 2>/dev/null \
	  || $(COLAB_BIN)/python -m pip install -q --no-deps -e .
	CHROMIUM=$(CHROMIUM) $(BIN)/python tools/lab_check.py --out _build/lab --colab-python $(COLAB_BIN)/python
