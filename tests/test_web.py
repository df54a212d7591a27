"""The web studio: every tab's handler answers tiny requests, and the hostile-use table (issues 37 and 43): foreign
hosts and origins, every parameter, bomb and oversized uploads, bounded queues and job store, a busy port. Each bad
request gets a 4xx JSON error of one line."""
import io
import resource
import time

import numpy as np
import pytest
import soundfile
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from multistyle.web import app as studio  # noqa: E402
from multistyle.web.app import create_app  # noqa: E402

STYLE, PHOTO = next(iter(studio.SAMPLE_STYLES)), next(iter(studio.SAMPLE_PHOTOS))  # whichever ship


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://localhost:7860")  # the studio answers only its own Host names


def png_bytes(size=(48, 40), colour=(200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def decoded_size(data_url: str) -> tuple[int, int]:
    import base64

    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).size


def test_page_and_samples_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "multistyle studio" in page.text
    assert "http://" not in page.text and "https://" not in page.text, "the page fetches nothing from the internet"
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "https://" not in script.text
    info = client.get("/api/info").json()
    assert info["photos"] and info["styles"]
    assert client.get(f"/api/sample/photo/{info['photos'][0]}").headers["content-type"] == "image/png"
    assert client.get("/static/../app.py").status_code == 404


def test_the_bundled_styles_are_the_public_domain_paintings_with_thumbnails(client):
    info = client.get("/api/info").json()
    assert "starry_night" in info["styles"] and len(info["styles"]) == 7
    assert info["style_titles"]["starry_night"] == "The Starry Night (Vincent van Gogh, 1889)"
    painting = client.get("/api/sample/style/starry_night")
    assert painting.status_code == 200 and max(Image.open(io.BytesIO(painting.content)).size) == 192
    card = client.get(f"/api/sample/network/{info['fast_styles'][0]}")
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    width, height = Image.open(io.BytesIO(card.content)).size
    assert width > 1.5 * height  # the painting (or its note) beside the photo in its style
    assert client.get("/api/sample/network/..%2Fadain_decoder").status_code == 404
    assert "starry_night" in client.get("/static/app.js").text  # the page opens on The Starry Night


def test_image_tab_adain_with_uploads_and_samples(client):
    answer = client.post("/api/image", data={"method": "adain", "size": 64, "alpha": 0.5, "style_sample": "starry_night"},
                         files={"content": ("photo.png", png_bytes(), "image/png")})
    assert answer.status_code == 200, answer.text
    assert decoded_size(answer.json()["image"]) == (64, 53)
    blended = client.post("/api/image", data={"method": "adain", "size": 64, "content_sample": "cat", "style_sample": "starry_night",
                                              "style2_sample": "wave", "blend": 0.5})
    assert blended.status_code == 200, blended.text


@pytest.mark.parametrize("fields, files, message", [
    ({"method": "adain", "style_sample": "starry_night"}, {"content": ("x.png", b"not an image", "image/png")}, "not an image file"),
    ({"method": "adain", "style_sample": "starry_night"}, {"content": ("x.png", png_bytes()[:60], "image/png")}, "corrupt or truncated"),
    ({"method": "adain", "content_sample": "cat"}, {}, "choose or upload a style image"),
    ({"method": "adain", "content_sample": "cat", "style_sample": "starry_night", "size": 5000}, {}, "size must be between"),
    ({"method": "adain", "content_sample": "cat", "style_sample": "starry_night", "alpha": 2}, {}, "alpha"),
    ({"method": "fast", "content_sample": "cat"}, {}, "choose a trained style"),
    ({"method": "fast", "content_sample": "cat", "fast_style": "nope"}, {}, "unknown style"),
])
def test_bad_image_requests_get_the_one_line_message(client, fields, files, message):
    answer = client.post("/api/image", data=fields, files=files)
    assert answer.status_code == 400 and message in answer.json()["error"], answer.text
    assert "\n" not in answer.json()["error"] and "Traceback" not in answer.text


def test_gatys_job_reports_progress_and_can_be_cancelled(client):
    job = client.post("/api/gatys", data={"content_sample": "cat", "style_sample": "starry_night", "steps": 4, "size": 64}).json()
    deadline = time.monotonic() + 120
    while (state := client.get(f"/api/gatys/{job['job']}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state["status"] == "done" and state["step"] == 4 and "style" in state["losses"], state
    assert decoded_size(state["image"])[0] == 64
    long_job = client.post("/api/gatys", data={"content_sample": "cat", "style_sample": "starry_night", "steps": 1000, "size": 64}).json()
    assert client.delete(f"/api/gatys/{long_job['job']}").json()["status"] == "cancelling"
    while (state := client.get(f"/api/gatys/{long_job['job']}").json())["status"] not in ("cancelled", "done", "failed"):
        assert time.monotonic() < deadline + 60
        time.sleep(0.2)
    assert state["status"] == "cancelled" and state["step"] < 1000


def test_text_tab(client):
    answer = client.post("/api/text", data={"sentence": "the food was cold and the staff was rude .", "to": "positive"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["output"] and body["positive_after"] > body["positive_before"]
    empty = client.post("/api/text", data={"sentence": "   ", "to": "positive"})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]


def test_audio_tab_with_the_demo_and_with_uploads(client):
    answer = client.post("/api/audio", data={"extractor": "auditory", "steps": 3})
    assert answer.status_code == 200, answer.text
    assert answer.json()["audio"].startswith("data:audio/wav;base64,")
    rate = 8000
    t = np.arange(rate) / rate
    clip = io.BytesIO()
    soundfile.write(clip, np.sin(2 * np.pi * 330 * t) * 0.5, rate, format="WAV")
    silent = io.BytesIO()
    soundfile.write(silent, np.zeros(rate), rate, format="WAV")
    bad = client.post("/api/audio", data={"extractor": "auditory", "steps": 3},
                      files={"content": ("a.wav", clip.getvalue(), "audio/wav"), "style": ("b.wav", silent.getvalue(), "audio/wav")})
    assert bad.status_code == 400 and "silent" in bad.json()["error"], bad.text


def test_a_running_gatys_job_does_not_hold_up_adain(client):
    job = client.post("/api/gatys", data={"content_sample": "cat", "style_sample": "starry_night", "steps": 1000, "size": 128}).json()
    deadline = time.monotonic() + 60
    while client.get(f"/api/gatys/{job['job']}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    answer = client.post("/api/image", data={"method": "adain", "size": 64, "content_sample": "cat", "style_sample": "starry_night"})
    assert answer.status_code == 200
    assert client.get(f"/api/gatys/{job['job']}").json()["status"] == "running", "AdaIN answered while Gatys kept running"
    client.delete(f"/api/gatys/{job['job']}")


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
