"""The hostile-use table (issue 43) outside the studio (its table is in test_web.py): every row is refused with one
line and leaves the disk as it was. Seconds in all: no row runs a model."""
import hashlib
import io
import os
import resource
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from multistyle import MultistyleError
from multistyle.errors import ResourceError, WriteError

# ---------------------------------------------------------------- decode guards: CLI and API

def test_the_decode_guard_reads_the_header_only(tmp_path, bomb, monkeypatch):
    from multistyle.core import memory
    from multistyle.image.io import load_image

    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 2 * 2**30)  # a 2 GB machine
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ResourceError, match="decoding 9950x9950 needs about 3.0 GiB"):
        load_image(path)
    with pytest.raises(ResourceError):
        load_image(Image.open(path))  # a lazily opened file: not decoded yet either
    with pytest.raises(ResourceError):
        from multistyle import AdaIN

        AdaIN.from_pretrained()(str(path), str(path))
    assert time.perf_counter() - started < 5
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 200 * 2**20
    assert path.read_bytes() == bomb


def test_the_cli_refuses_a_bomb_it_cannot_hold(cli, tmp_path, bomb, monkeypatch, sample_images):
    from multistyle.core import memory

    (tmp_path / "bomb.png").write_bytes(bomb)
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 2 * 2**30)
    before = tree(tmp_path)
    code, out, err = cli("image", "adain", tmp_path / "bomb.png", sample_images["style"], "-o", tmp_path / "o.png")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "decoding 9950x9950" in err, err
    assert tree(tmp_path) == before


# ---------------------------------------------------------------- outputs: special files and read-only files

def tree(root: Path) -> dict:
    """Every entry under `root`: its kind, link target and content hash (a FIFO or device is never opened)."""
    found = {}
    for p in sorted(root.rglob("*")):
        st = os.lstat(p)
        if p.is_symlink():
            found[str(p)] = ("link", os.readlink(p))
        elif p.is_file() and not p.is_fifo():
            found[str(p)] = ("file", oct(st.st_mode), hashlib.sha256(p.read_bytes()).hexdigest())
        else:
            found[str(p)] = ("other", oct(st.st_mode))
    return found


@pytest.fixture
def outputs(tmp_path):
    (tmp_path / "null.png").symlink_to("/dev/null")
    (tmp_path / "stdout.png").symlink_to("/dev/stdout")
    (tmp_path / "fd.png").symlink_to("/proc/self/fd/1")
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "locked.png").write_bytes(b"keep me")
    (tmp_path / "locked.png").chmod(0o444)
    (tmp_path / "to_locked.png").symlink_to(tmp_path / "locked.png")
    return tmp_path


SPECIAL = {"null.png": "leads to a device", "stdout.png": "leads to a device", "fd.png": "leads to a device",
           "pipe.png": "is a named pipe", "locked.png": "read-only", "to_locked.png": "read-only"}


@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_and_read_only_outputs_are_refused_by_the_cli(cli, outputs, name, sample_images):
    before = tree(outputs)
    code, out, err = cli("image", "grid", sample_images["content"], sample_images["style"], "-o", outputs / name)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (code, out, err)
    assert SPECIAL[name] in err, err
    assert tree(outputs) == before, "nothing replaced, nothing left behind"
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_and_read_only_outputs_are_refused_by_every_writer(outputs, name):
    from multistyle.core.checkpoint import atomic_write_bytes, save_tensors
    from multistyle.image.io import save_image

    before = tree(outputs)
    for write in (lambda p: atomic_write_bytes(p, b"x"), lambda p: save_image(torch.zeros(1, 3, 4, 4), p),
                  lambda p: save_tensors(p, {})):
        with pytest.raises(WriteError, match=SPECIAL[name]):
            write(outputs / name)
    assert tree(outputs) == before


def test_overwriting_a_read_only_output_is_explicit(outputs):
    from multistyle.core.checkpoint import atomic_write_bytes
    from multistyle.core.paths import overwriting

    with overwriting():
        atomic_write_bytes(outputs / "to_locked.png", b"new")
    assert (outputs / "locked.png").read_bytes() == b"new" and (outputs / "to_locked.png").is_symlink(), \
        "the link's target was replaced, the link kept"


def test_the_cli_overwrites_a_read_only_output_when_told(cli, outputs, sample_images):
    code, out, err = cli("--overwrite", "image", "grid", sample_images["content"], "-o", outputs / "to_locked.png")
    assert code == 0, err
    assert Image.open(outputs / "locked.png").size[1] == 256 and (outputs / "to_locked.png").is_symlink()
    code, out, err = cli("--overwrite", "image", "grid", sample_images["content"], "-o", outputs / "null.png")
    assert code == 2 and "leads to a device" in err, "--overwrite never reaches devices"


def test_a_regular_output_is_still_written_atomically(tmp_path):
    from multistyle.core.checkpoint import atomic_write_bytes

    (tmp_path / "real.png").write_bytes(b"old")
    (tmp_path / "link.png").symlink_to(tmp_path / "real.png")
    atomic_write_bytes(tmp_path / "link.png", b"new")
    atomic_write_bytes(tmp_path / ("n" * 250 + ".json"), b"{}")  # the temporary name fits beside a long name
    assert (tmp_path / "real.png").read_bytes() == b"new" and (tmp_path / "link.png").is_symlink()
    assert sorted(p.name[:5] for p in tmp_path.iterdir()) == ["link.", "nnnnn", "real."], "no temporary file left"


# ---------------------------------------------------------------- API: wrong types

def closed_image() -> Image.Image:
    image = Image.new("RGB", (16, 16))
    image.close()
    return image


@pytest.fixture(scope="module")
def models():
    from multistyle import AdaIN, FastStyle, Gatys, TextTransfer
    from multistyle.audio.transfer import AudioTransfer
    from multistyle.video.stylize import VideoTransfer

    return {"gatys": Gatys(size=32, steps=1), "adain": AdaIN.from_pretrained(), "fast": FastStyle.from_pretrained(FastStyle.styles()[0]),
            "text": TextTransfer.from_pretrained(), "audio": AudioTransfer(extractor="random", steps=1),
            "video": VideoTransfer(method="adain")}


PICTURE = np.zeros((16, 16, 3), np.float32)


def api_rows():
    from multistyle import AdaIN, FastStyle, Gatys, TextTransfer
    from multistyle.audio.transfer import AudioTransfer
    from multistyle.video.stylize import VideoTransfer

    rows = {
        "Gatys(5)": lambda m: Gatys(5), "Gatys(bogus=1)": lambda m: Gatys(bogus=1), "Gatys(steps=1e12)": lambda m: Gatys(steps=10**12),
        "AdaIN(5)": lambda m: AdaIN(5), "AdaIN.from_pretrained(5)": lambda m: AdaIN.from_pretrained(5),
        "AdaIN.from_file(None)": lambda m: AdaIN.from_file(None),
        "FastStyle(5)": lambda m: FastStyle(5), "FastStyle.from_pretrained(None)": lambda m: FastStyle.from_pretrained(None),
        "FastStyle.from_pretrained(5)": lambda m: FastStyle.from_pretrained(5),
        "TextTransfer.from_pretrained(5)": lambda m: TextTransfer.from_pretrained(5),
        "AudioTransfer(5)": lambda m: AudioTransfer(5), "AudioTransfer(bogus=1)": lambda m: AudioTransfer(bogus=1),
        "VideoTransfer(5)": lambda m: VideoTransfer(5), "VideoTransfer(bogus=1)": lambda m: VideoTransfer(bogus=1),
        "text(None)": lambda m: m["text"](None), "text(5)": lambda m: m["text"](5), "text(b'')": lambda m: m["text"](b"good"),
        "text(bogus=1)": lambda m: m["text"]("good food .", bogus=1), "text(beam='x')": lambda m: m["text"]("good food .", beam="x"),
        "text(strength='x')": lambda m: m["text"]("good food .", strength="x"),
        "audio(None)": lambda m: m["audio"](None, np.zeros(800), sample_rate=8000),
        "audio(bogus=1)": lambda m: m["audio"](np.zeros(800), np.zeros(800), sample_rate=8000, bogus=1),
        "video(None)": lambda m: m["video"](None, PICTURE), "video(5)": lambda m: m["video"](5, PICTURE),
        "video(bogus=1)": lambda m: m["video"]("clip.mp4", PICTURE, bogus=1),
        "fast(bogus=1)": lambda m: m["fast"](PICTURE, bogus=1), "fast(alpha=nan)": lambda m: m["fast"](PICTURE, alpha=float("nan")),
        "adain(bogus=1)": lambda m: m["adain"](PICTURE, PICTURE, bogus=1),
        "gatys(bogus=1)": lambda m: m["gatys"](PICTURE, PICTURE, bogus=1),
    }
    for bad, label in ((None, "None"), (5, "int"), (closed_image(), "closed PIL image")):
        for name, call in (("gatys", lambda m, b: m["gatys"](b, PICTURE)), ("gatys style", lambda m, b: m["gatys"](PICTURE, b)),
                           ("adain", lambda m, b: m["adain"](b, PICTURE)), ("adain style", lambda m, b: m["adain"](PICTURE, b)),
                           ("fast", lambda m, b: m["fast"](b)), ("video style", lambda m, b: m["video"]("x.mp4", b))):
            rows[f"{name}({label})"] = lambda m, call=call, bad=bad: call(m, bad)
    return rows


API_ROWS = api_rows()


@pytest.mark.parametrize("case", list(API_ROWS))
def test_api_wrong_types_are_one_line_errors(case, models):
    with pytest.raises(MultistyleError) as caught:
        API_ROWS[case](models)
    message = str(caught.value)
    assert message and "\n" not in message, message


def test_text_transfer_refuses_non_utf8_stdin(cli, monkeypatch):
    import sys

    class Stdin(io.TextIOWrapper):
        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stdin", Stdin(io.BytesIO(b"good \xff\xfe food\n")))
    code, out, err = cli("text", "transfer")
    assert code == 2 and err == "error: stdin: not UTF-8 text (line 1)\n" and out == "", (code, out, err)
