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
# apt-get needs root: sudo where make runs as another user (a GitHub runner)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SITE ?= _build/html
COLAB_VENV := .venv-colab
COLAB_BIN := $(COLAB_VENV)/bin
COLAB_STAMP := $(COLAB_VENV)/.convlab-colab-installed
COLAB_CHAPTER := book/01_what_is_a_convolution.ipynb
# the Simplified Chinese edition (tools/i18n.py; README "中文版 / Chinese edition")
ZH := zh_CN
ZH_NOTEBOOKS := _build/notebooks-$(ZH)
# the generated Chinese chapter that `make test` runs under nbval (`make nbval-zh-all`: all)
ZH_NBVAL_CHAPTER := $(ZH_NOTEBOOKS)/book/01_what_is_a_convolution.ipynb
EXECUTION_CACHE := _build/.jupyter_cache
# Colab's pip (pip 23 rejects the set-up cell's requirement with a git+file:// URL)
COLAB_PIP := pip==24.1.2
PYTEST_NBVAL := $(BIN)/pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider

# The targets of `make test` run one after another, in the order listed (also under -j):
# the site checks read the build that `build` just made.
.NOTPARALLEL:

.PHONY: venv venvs book serve test lint lint-workflows unit nbval hygiene build chromium site-check browser \
	nbval-zh nbval-zh-all i18n-extract i18n-check test-colab bench clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

## book: build both editions strictly: English into _build/html, Chinese into _build/html/zh_CN
book: venv build
	@echo "Built: open file://$(CURDIR)/_build/html/index.html (or run: make serve);"
	@echo "       中文版 / Chinese edition: file://$(CURDIR)/_build/html/zh_CN/index.html"

# The notebooks execute once for both editions: every chapter is executed (one per core)
# into a jupyter-cache that starts empty, so it runs the current code; both builds find
# every chapter there (tests/site checks the Chinese log says so). Then the Chinese notebooks.
build: venv
	rm -rf _build/html _build/.doctrees _build/jupyter_execute $(EXECUTION_CACHE) \
	  _build/$(ZH) $(ZH_NOTEBOOKS)
	mkdir -p _build
	set -o pipefail; $(BIN)/python tools/i18n.py execute 2>&1 | tee _build/execute.log
	set -o pipefail; $(BIN)/python tools/i18n.py build en 2>&1 | tee _build/build.log
	set -o pipefail; $(BIN)/python tools/i18n.py build $(ZH) 2>&1 | tee _build/build-$(ZH).log
	$(BIN)/python tools/i18n.py notebooks --out $(ZH_NOTEBOOKS) --site _build/html/$(ZH)

serve:
	$(BIN)/python -m http.server --directory _build/html 8000

## test: every check (lint, unit tests, chapters under nbval, hygiene, strict build, site checks)
test: venvs venv lint unit nbval hygiene build site-check browser nbval-zh test-colab
	@echo "make test: all checks passed"

## venvs: both environments, built side by side (on a fresh clone, two pip installs of a
## torch build: about a minute less than one after the other); a no-op when both are current
venvs:
	@log=$$(mktemp); $(MAKE) --no-print-directory $(COLAB_STAMP) > $$log 2>&1 & colab=$$!; \
	$(MAKE) --no-print-directory $(STAMP); main=$$?; wait $$colab; colab=$$?; \
	cat $$log; rm -f $$log; test $$main = 0 && test $$colab = 0

lint: venv lint-workflows
	$(BIN)/ruff check src tests benchmarks tools book

## lint-workflows: the GitHub Actions workflows against GitHub's workflow schema (offline)
lint-workflows: venv
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# tests/test_browser_check.py drives Chromium: it runs in `browser`, after `chromium`
unit: venv
	MPLBACKEND=Agg $(BIN)/pytest -n 2 -q tests --ignore=tests/site --ignore=tests/test_browser_check.py

nbval: venv
	$(PYTEST_NBVAL) -n 2 --dist loadfile -q book/

## one chapter's test: make nbval-one NB=book/01_what_is_a_convolution.ipynb
nbval-one: venv
	$(PYTEST_NBVAL) -q $(NB)

hygiene: venv
	$(BIN)/python tools/nbtools.py check $(NOTEBOOKS)

## chromium: headless Chromium for the site checks (installed from Debian when missing;
## set CHROMIUM=/path/to/chrome to use another build)
## and the Chinese fonts the Chinese pages need (Debian's fonts-noto-cjk; without them
## Chromium draws every Han character as an empty box, and the screenshots show only boxes)
chromium:
	command -v $(CHROMIUM) >/dev/null || ($(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	fc-list :lang=zh family | grep -q . || ($(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk)

## site-check: the built site's budgets, links, outputs, Colab links (after `make build`)
site-check: venv chromium
	CONVLAB_SITE=$(SITE) CHROMIUM=$(CHROMIUM) $(BIN)/pytest -q -p no:cacheprovider tests/site

## browser: the checker's own tests on synthetic pages, then every built page in Chromium
browser: venv chromium
	CHROMIUM=$(CHROMIUM) CONVLAB_REQUIRE_CHROMIUM=1 MPLBACKEND=Agg $(BIN)/pytest -q -p no:cacheprovider tests/test_browser_check.py
	CHROMIUM=$(CHROMIUM) $(BIN)/python tools/browser_check.py --site $(SITE) --screenshots _build/screenshots

## nbval-zh: a generated Chinese chapter under nbval (after `make build`). Every Chinese
## notebook's code cells, outputs, ids, tags and metadata are byte-identical to the English
## one's (tests/test_i18n.py), so `make nbval` already ran their code; this runs one of them
## end to end as a notebook. `make nbval-zh-all` runs all of them (as long as `make nbval`).
nbval-zh: venv
	$(PYTEST_NBVAL) -q $(ZH_NBVAL_CHAPTER)

nbval-zh-all: venv
	$(PYTEST_NBVAL) -n 2 --dist loadfile -q $(ZH_NOTEBOOKS)/book

## i18n-extract: the translator's first step (README "中文版 / Chinese edition"): the English
## text's messages into locales/zh_CN/LC_MESSAGES/**.po, and what needs no translator filled
i18n-extract: venv
	$(BIN)/python tools/i18n.py extract

## i18n-check: counts per .po file; fails on an empty, fuzzy or broken entry, or stale files
i18n-check: venv
	$(BIN)/python tools/i18n.py check --up-to-date

## test-colab: Colab's versions (ipywidgets 7.7.1, numpy 2.1, matplotlib 3.10) in .venv-colab
$(COLAB_STAMP): requirements-colab.txt
	test -x $(COLAB_BIN)/python || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_BIN)/python -m pip install -q $(COLAB_PIP)
	$(COLAB_BIN)/python -m pip install -q -r requirements-colab.txt
	@# this working tree's convlab, as in .venv (the Colab kernels of the unit tests and
	@# `make lab` import it; test-colab checks the Colab way of installing it, then restores this)
	$(COLAB_BIN)/python -m pip install -q --no-deps -e .
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
