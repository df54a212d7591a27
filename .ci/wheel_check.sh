#!/usr/bin/env bash
# The package as a user installs it, without a second multi-GB environment: build the wheel (with build isolation,
# so pyproject's [build-system] requirements are what is tested), install it alone (--no-deps) into
# build/wheel_site, then, from a folder outside the checkout with build/wheel_site first on PYTHONPATH and the
# dependencies taken from PYTHON's environment, check that multistyle comes from the wheel, that the configs,
# shipped weights, the bundled paintings and py.typed are in it, and run the CLI through it: the console script
# (--help and a usage error: exit status 2, no traceback), and `text transfer`
# with the `eval` extra's packages (transformers, sacrebleu) made unimportable, as in a lean `pip install .`.
# Usage: .ci/wheel_check.sh [PYTHON]   (default .venv/bin/python; `make wheel-check`, and `make test` after pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${1:-.venv/bin/python}
case "$PY" in /*) ;; */*) PY=$ROOT/$PY ;; esac  # absolute (not resolved: a venv's python is a symlink)
SITE=$ROOT/build/wheel_site

rm -rf build  # stale wheels would be picked, stale build/lib files would land in the new wheel
"$PY" -m pip wheel --quiet --no-deps -w build/dist .
wheels=(build/dist/multistyle-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "error: expected one wheel in build/dist" >&2; exit 1; }
"$PY" -m pip install --quiet --no-deps --no-compile --target "$SITE" "${wheels[0]}"
echo "wheel: ${wheels[0]} ($(du -h "${wheels[0]}" | cut -f1)), installed alone into build/wheel_site"

missing=0
while IFS= read -r file; do
  [ -f "$SITE/$file" ] || { echo "error: not in the wheel: $file" >&2; missing=1; }
done < <(find multistyle/configs -name '*.toml'; find multistyle/*/weights -maxdepth 1 -type f; find multistyle/image/paintings -type f; echo multistyle/text/reviews.txt; echo multistyle/py.typed)
[ "$missing" = 0 ]
[ -f "$SITE/multistyle/configs/image/gatys.toml" ]
echo "package data: $(find "$SITE/multistyle/configs" -name '*.toml' | wc -l) configs, $(find "$SITE"/multistyle/*/weights -type f | wc -l) weight files, $(find "$SITE/multistyle/image/paintings" -name '*.jpg' | wc -l) paintings, py.typed"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"  # outside the checkout: neither the working directory nor .venv's editable install may supply multistyle
export PYTHONPATH=$SITE
"$PY" - "$SITE" <<'PYTHON'
import importlib.resources
import sys
from pathlib import Path

import multistyle

site = Path(sys.argv[1]).resolve()
assert "wheel_site" in multistyle.__file__ and Path(multistyle.__file__).resolve().is_relative_to(site), multistyle.__file__
assert importlib.resources.files("multistyle").joinpath("configs", "image", "gatys.toml").is_file()
from multistyle import samples

assert len(samples.paintings()) == 7 and samples.painting("starry_night").is_relative_to(site), samples.paintings()
from multistyle.demo import review_sentences

assert len(review_sentences()) == 20  # the demo's text line picks from these
print(f"import: multistyle from {Path(multistyle.__file__).parent}")
PYTHON
help=$("$SITE/bin/multistyle" --help)
grep -q "Usage: multistyle" <<<"$help" || { echo "error: multistyle --help printed no usage" >&2; exit 1; }
echo "console script: build/wheel_site/bin/multistyle --help ok"
# A usage mistake (the output given without -o): one usage line, one error line, exit status 2, no traceback.
status=0
err=$("$SITE/bin/multistyle" image adain c.jpg s.jpg out.png 2>&1 >/dev/null) || status=$?
if [ "$status" != 2 ] || grep -q Traceback <<<"$err" || [ "$(grep -c '^error: ' <<<"$err")" != 1 ]; then
  echo "error: a usage mistake gave exit status $status and: $err" >&2; exit 1
fi
echo "usage error: exit status 2, '$(grep '^error: ' <<<"$err")'"
out=$("$PY" -c 'import runpy, sys
sys.modules.update(transformers=None, sacrebleu=None)  # importing either now raises ImportError
runpy.run_module("multistyle", run_name="__main__")' text transfer --to positive "the food was cold and the service was slow .")
[ -n "$out" ] || { echo "error: text transfer printed nothing" >&2; exit 1; }
echo "text transfer (shipped weights, no transformers/sacrebleu): 'the food was cold and the service was slow .' -> '$out'"
echo "wheel check passed"
