# Set-up, tests and demos for nn-autograd-basics.
# Everything runs inside .venv; `make test` is the command CI runs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
ARGS   ?=

# A local wheel of torch==2.13.0 may lie in /opt/wheels; point pip there when it exists.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

# Stamp files: each extra is installed again only when the package metadata changes.
STAMP_TEST       := $(VENV)/.stamp-test
STAMP_CROSSCHECK := $(VENV)/.stamp-crosscheck
STAMP_BENCH      := $(VENV)/.stamp-bench
STAMP_DEV        := $(VENV)/.stamp-dev
STAMP_DEMOS      := $(VENV)/.stamp-demos
STAMP_INTEROP    := $(VENV)/.stamp-interop
STAMP_BROWSER    := $(VENV)/.stamp-browser
STAMP_NOTEBOOKS  := $(VENV)/.stamp-notebooks
STAMP_DOCS       := $(VENV)/.stamp-docs
META             := setup.cfg pyproject.toml

.PHONY: help venv graphviz test demo crosscheck interop demo-deps browser notebooks bench docs lint clean

help:
	@echo "make venv        create .venv and install the package with its test extra"
	@echo "make graphviz    make sure Graphviz's dot program is installed"
	@echo "make test        run the test suite (ARGS='-k name' to select)"
	@echo "make demo        train XOR and write xor_graph.svg"
	@echo "make crosscheck  add torch==2.13.0 to .venv for the PyTorch comparison tests"
	@echo "make interop     add torch==2.13.0, onnx and onnxruntime (nn.to_torch, export_onnx)"
	@echo "make demo-deps   add scikit-learn and matplotlib for the lifecycle demos"
	@echo "make browser     add playwright for the page tests (they drive /usr/bin/chromium)"
	@echo "make notebooks   add nbclient, ipykernel and the course's libraries (notebooks/)"
	@echo "make bench       install micrograd + torch and run benchmarks/run.py"
	@echo "make docs        build the guides and the API reference into build/docs (strict)"
	@echo "make lint        ruff check"
	@echo "make clean       remove .venv, build output, caches and the files the demos write"

venv: $(STAMP_TEST)

$(STAMP_TEST): $(META)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(FIND_LINKS) -e '.[test]'
	@touch $@

$(STAMP_CROSSCHECK): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[crosscheck]'
	@touch $@

$(STAMP_INTEROP): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[interop]'
	@touch $@

$(STAMP_BENCH): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[bench]'
	@touch $@

$(STAMP_DEMOS): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[demos]'
	@touch $@

$(STAMP_BROWSER): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[browser]'
	@touch $@

$(STAMP_NOTEBOOKS): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[notebooks]'
	@touch $@

$(STAMP_DOCS): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[docs]'
	@touch $@

$(STAMP_DEV): $(STAMP_TEST)
	$(PIP) install $(FIND_LINKS) -e '.[dev]'
	@touch $@

graphviz:
	@if command -v dot >/dev/null 2>&1; then \
		echo "graphviz: $$(dot -V 2>&1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y graphviz; \
	else \
		echo "Graphviz's 'dot' program is not on PATH; graph drawing needs it." >&2; \
		echo "Install it with:  sudo apt-get update && sudo apt-get install -y graphviz" >&2; \
		echo "(macOS: brew install graphviz)" >&2; \
		exit 1; \
	fi

test: venv graphviz
	$(PY) -m pytest -q $(ARGS)

demo: venv graphviz
	$(PY) demos/train_xor.py

crosscheck: $(STAMP_CROSSCHECK)

interop: $(STAMP_INTEROP)

demo-deps: $(STAMP_DEMOS)

browser: $(STAMP_BROWSER)

notebooks: $(STAMP_NOTEBOOKS)

bench: $(STAMP_BENCH) graphviz
	$(PY) benchmarks/run.py

# The site: docs/*.md and the API reference read from the docstrings (mkdocs.yml).
# Strict: a broken link or reference, or a docstring that does not match its signature, fails.
docs: $(STAMP_DOCS)
	$(VENV)/bin/mkdocs build --strict --clean --site-dir build/docs

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis .ruff_cache
	rm -f xor_graph.svg xor_graph.dot xor.html dogcat_graph.svg dogcat_graph.dot \
	      digits_curves.svg blurry_curves.svg digits.npz digits_model.npz gpt.npz \
	      attention.png attention_score.svg attention_score.dot \
	      ddp_prediction.svg ddp_prediction.dot model.onnx
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
