# `make demo` and `make test` each set up .venv on first use (pip, about a minute from a local mirror).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test wheel-check install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/multistyle demo --out demo_out

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory wheel-check

# The built wheel, installed alone into build/wheel_site, used from outside the checkout (.ci/wheel_check.sh).
wheel-check: $(STAMP)
	.ci/wheel_check.sh $(BIN)/python

clean:
	rm -rf $(VENV) demo_out build
