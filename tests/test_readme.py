"""The README's Python API examples run exactly as printed."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def api_examples() -> list[str]:
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_has_an_example_per_modality():
    code = "\n".join(api_examples())
    for name in ("AdaIN", "Gatys", "TextTransfer", "AudioTransfer"):
        assert f"from multistyle import {name}" in code


@pytest.mark.parametrize("index", range(len(api_examples())))
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(api_examples()[index], f"README.md example {index + 1}", "exec"), {"__name__": "__readme__"})
    written = sorted(p.name for p in tmp_path.iterdir())
    printed = capsys.readouterr().out
    if "save(" in api_examples()[index]:
        assert written, "the example saves its result"
    if "print(" in api_examples()[index]:
        assert printed.strip()
