"""The hostile-use table (issue 43): every row is refused with one line (or a 4xx JSON error in the studio) and
leaves the disk as it was. Seconds in all: no row runs a model."""
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

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from multistyle.web import app as studio  # noqa: E402

STYLE, PHOTO = next(iter(studio.SAMPLE_STYLES)), next(iter(studio.SAMPLE_PHOTOS))  # whichever ship
BOMB_SIDE = 9950  # 99 megapixels, one bit each: 12 KB as a PNG, 3+ GB decoded


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = png(Image.new("1", (BOMB_SIDE, BOMB_SIDE)))
    assert len(data) < 20_000, "a tiny file"
    return data


@pytest.fixture(scope="module")
def client():
    return TestClient(studio.create_app(), base_url="http://localhost:7860")


def one_line_json(answer, status: int) -> str:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    error = answer.json()["error"]
    assert isinstance(error, str) and error and "\n" not in error and "Traceback" not in error, error
    return error


# ---------------------------------------------------------------- studio: Host, Origin, CORS

@pytest.mark.parametrize("host", ["evil.example", "evil.example:7860", "localhost.evil.example:7860",
                                  "127.0.0.1.nip.io:7860", "localhost:notaport", ""])
def test_a_foreign_host_is_refused(client, host):
    """DNS rebinding: a page at evil.example whose name now points at 127.0.0.1 still sends Host: evil.example."""
    error = one_line_json(client.get("/api/info", headers={"host": host}), 400)
    assert "Host" in error


@pytest.mark.parametrize("host", ["localhost:7860", "LOCALHOST", "127.0.0.1:7860", "[::1]:7860", "localhost."])
def test_this_machine_by_name_or_address_is_served(client, host):
    assert client.get("/api/info", headers={"host": host}).status_code == 200


def test_host_names_when_bound_to_every_interface():
    import socket

    names = studio.host_names("0.0.0.0")
    assert studio.host_allowed(f"{socket.gethostname()}:7860", names) and studio.host_allowed("192.168.1.20:7860", names)
    assert not studio.host_allowed("evil.example:7860", names)
    assert studio.host_allowed("studio.lan", studio.host_names("127.0.0.1", ("studio.lan",))), "MULTISTYLE_STUDIO_HOSTS"


GATYS_FORM = {"content_sample": PHOTO, "style_sample": STYLE, "steps": 1000, "size": 64}


@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"},
    {"origin": "null"},  # sandboxed frames and file:// pages
    {"origin": "http://localhost:7860.evil.example"},
    {"origin": "http://localhost:9999"},  # another local server's page is another site too
    {"referer": "http://evil.example/attack.html"},
    {"origin": "http://localhost:7860", "sec-fetch-site": "cross-site"},
], ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_state_changing_requests_from_another_site_are_refused(client, headers):
    for path, form in (("/api/gatys", GATYS_FORM), ("/api/image", {"content_sample": PHOTO, "style_sample": STYLE}),
                       ("/api/text", {"sentence": "good food ."})):
        answer = client.post(path, data=form, headers=headers)
        assert "only answers its own page" in one_line_json(answer, 403)
        assert "job" not in answer.json(), "no job started"
    assert "only answers" in one_line_json(client.delete("/api/gatys/abc", headers=headers), 403)


def test_the_page_own_origin_gets_through(client):
    """Same origin passes the guard (the handler's own check answers: no model runs)."""
    answer = client.post("/api/image", data={"content_sample": PHOTO, "style_sample": STYLE, "size": 5000},
                         headers={"origin": "http://localhost:7860", "referer": "http://localhost:7860/", "sec-fetch-site": "same-origin"})
    assert "size must be between" in one_line_json(answer, 400)


def test_no_cors_for_other_origins_and_no_framing(client):
    answer = client.get("/api/info", headers={"origin": "http://evil.example"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
    preflight = client.options("/api/image", headers={"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers and preflight.status_code >= 400
    page = client.get("/")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------- studio: parameters

def shipped_network_path() -> str:
    from multistyle.image.fast import shipped_styles

    styles = shipped_styles()
    return str(next(iter(styles.values()))) if styles else "/tmp/model.safetensors"


@pytest.mark.parametrize("method, path, form, status, message", [
    ("get", "/api/sample/anything/" + PHOTO, None, 404, "no sample"),
    ("get", "/api/sample/photo/..%2f..%2fapp.py", None, 404, ""),
    ("get", "/api/sample/photo/%2e%2e", None, 404, ""),
    ("get", "/static/..%2fapp.py", None, 404, ""),
    ("get", "/static/%2e%2e%2f%2e%2e%2f__init__.py", None, 404, ""),
    ("get", "/api/gatys/" + "0" * 32, None, 404, "no job"),
    ("get", "/no/such/route", None, 404, "Not Found"),
    ("post", "/api/image", {"method": "fast", "content_sample": PHOTO, "fast_style": "/etc/passwd"}, 400, "unknown style"),
    ("post", "/api/image", {"method": "fast", "content_sample": PHOTO, "fast_style": shipped_network_path()}, 400, "unknown style"),
    ("post", "/api/image", {"method": "fast", "content_sample": PHOTO, "fast_style": "../fast/wave"}, 400, "unknown style"),
    ("post", "/api/image", {"method": "adain", "content_sample": "../../etc/passwd", "style_sample": STYLE}, 400, "no sample photo"),
    ("post", "/api/image", {"method": "adain", "content_sample": PHOTO, "style_sample": STYLE, "blend": "nan"}, 400, "blend"),
    ("post", "/api/image", {"method": "adain", "content_sample": PHOTO, "style_sample": STYLE, "alpha": "inf"}, 400, "alpha"),
    ("post", "/api/image", {"method": "adain", "content_sample": PHOTO, "style_sample": STYLE, "alpha": "-1e309"}, 400, "alpha"),
    ("post", "/api/image", {"method": "adain", "content_sample": PHOTO, "style_sample": STYLE, "size": "abc"}, 400, "size"),
    ("post", "/api/image", {"method": "gatys", "content_sample": PHOTO, "style_sample": STYLE}, 400, "method must be"),
    ("post", "/api/gatys", {**GATYS_FORM, "style_weight": "nan"}, 400, "style weight"),
    ("post", "/api/gatys", {**GATYS_FORM, "steps": "1e12"}, 400, "steps"),
    ("post", "/api/gatys", {**GATYS_FORM, "steps": 10**12}, 400, "steps must be between"),
    ("post", "/api/text", {"sentence": "good food .", "strength": "nan"}, 400, "strength"),
    ("post", "/api/text", {"sentence": "x" * 5000}, 400, "at most"),
    ("post", "/api/text", {}, 400, "sentence"),
    ("post", "/api/audio", {"extractor": "nope"}, 400, "extractor"),
    ("post", "/api/audio", {"steps": 10**9}, 400, "steps"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_every_parameter_is_checked(client, method, path, form, status, message):
    answer = client.post(path, data=form) if method == "post" else client.get(path)
    error = one_line_json(answer, status)
    assert message in error, error
    assert "[object Object]" not in error and "{'" not in error, "FastAPI's raw validation list never reaches the page"


def test_the_page_script_reads_every_error_shape(client):
    script = client.get("/static/app.js").text
    assert "body.error" in script and "Array.isArray(detail)" in script, "FastAPI-style lists shown as text, not [object Object]"


# ---------------------------------------------------------------- studio: uploads, queues, jobs

def test_a_tiny_bomb_upload_is_refused_from_its_header(client, bomb):
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3):
        answer = client.post("/api/image", data={"method": "adain", "style_sample": STYLE, "size": 64},
                             files={"content": ("bomb.png", bomb, "image/png")})
        assert "too large to decode" in one_line_json(answer, 400)
    assert time.perf_counter() - started < 10
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    assert grown < 200 * 2**20, f"peak memory grew by {grown / 2**20:.0f} MB: the bomb was decoded"


def test_bodies_are_capped_before_they_are_read(client, monkeypatch):
    monkeypatch.setattr(studio, "MAX_BODY_BYTES", 10_000)
    answer = client.post("/api/image", data={"method": "adain"}, files={"content": ("big.png", b"\0" * 20_000, "image/png")})
    assert "larger than" in one_line_json(answer, 413)
    chunked = client.post("/api/text", content=iter([b"sentence=good"]), headers={"content-type": "application/x-www-form-urlencoded"})
    assert "Content-Length" in one_line_json(chunked, 411)


def test_queues_are_bounded():
    lane = studio.Lane("image", workers=1, waiting=1, max_bytes=100)
    lane.reserve(10)
    lane.reserve(10)
    with pytest.raises(studio.Busy, match="busy"):
        lane.reserve(0)  # a third request while one computes and one waits
    lane.release(10)
    with pytest.raises(studio.Busy):
        lane.reserve(95)  # the waiting uploads' bytes are bounded too
    future = lane.submit(lambda: 42, 10)
    assert future.result() == 42
    for _ in range(50):  # the slot is freed when the work ends, not when the request goes away
        if lane.count == 0:
            break
        time.sleep(0.01)
    assert (lane.count, lane.bytes) == (0, 0)


def test_the_gatys_job_store_is_bounded(client, monkeypatch):
    monkeypatch.setattr(studio, "GATYS_PENDING", 0)  # as if the queue were full: no job runs in this test
    answer = client.post("/api/gatys", data=GATYS_FORM)
    assert "already queued or running" in one_line_json(answer, 503)


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


def test_a_busy_port_or_unknown_host_is_one_line(cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = cli("serve", "--port", port)
        assert code == 2 and out == "" and err.count("\n") == 1 and "Address already in use" in err and "--port" in err, err
    code, out, err = cli("serve", "--host", "no.such.host.invalid", "--port", port)
    assert code == 2 and out == "" and err.startswith("error: --host no.such.host.invalid"), err
