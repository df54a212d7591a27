import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only the project's own machines have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_images(tmp_path_factory) -> dict[str, Path]:
    """scikit-image's bundled photos, small, as files: always available offline."""
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("images")
    paths = {}
    for name, array in {"content": data.chelsea(), "style": data.immunohistochemistry(), "style2": data.coffee()}.items():
        img = Image.fromarray(array)
        img.thumbnail((96, 96))
        paths[name] = folder / f"{name}.png"
        img.save(paths[name])
    return paths


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `multistyle ARGS...` in-process; returns (exit code, stdout, stderr)."""
    import sys

    from multistyle.cli import main

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["multistyle", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="module")
def one_thread():
    """Models as small as the test ones run faster on one thread than on two that wait for each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


BOMB_SIDE = 9950  # 99 megapixels, one bit each: 12 KB as a PNG, 3+ GB decoded


@pytest.fixture(scope="session")
def bomb() -> bytes:
    """A decompression bomb: a tiny PNG whose decoded pixels would take gigabytes (test_security, test_web)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (BOMB_SIDE, BOMB_SIDE)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 20_000, "a tiny file"
    return buffer.getvalue()
