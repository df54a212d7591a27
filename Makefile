# `make demo` and `make test` each set up .venv on first use (pip, about a minute from a local mirror), with the
# known-good versions of constraints.txt; `make test-latest` runs the suite on the newest releases instead.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LATEST := .venv-latest

.PHONY: demo test wheel-check install constraints test-latest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
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

# constraints.txt anew from .venv (after an upgrade there that the whole suite passed with).
constraints: $(STAMP)
	$(BIN)/python .ci/deps.py freeze > constraints.txt

# The suite on the newest release of every dependency that pyproject leaves open (no constraints), in $(LATEST), made
# on first use and upgraded each run; then the versions that differ from constraints.txt. torch, torchvision and
# torchaudio stay at pyproject's pins: $(LATEST) uses .venv's copies (and the CUDA wheels they pin) through a .pth
# file rather than downloading 4 GB again; whatever pip installs into $(LATEST) itself comes first on sys.path.
test-latest: $(STAMP)
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(BIN)/python .ci/deps.py share-pinned $(LATEST)/pinned
	echo "$(CURDIR)/$(LATEST)/pinned" > "$$($(LATEST)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/zz_pinned.pth"
	$(LATEST)/bin/pip install --quiet --upgrade pip
	$(LATEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	$(LATEST)/bin/python .ci/deps.py compare constraints.txt
	$(LATEST)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) $(LATEST) demo_out build
