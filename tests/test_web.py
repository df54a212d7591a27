"""The web studio's API: every tab's handler answers tiny requests, bad uploads get their one-line message."""
import io
import time

import numpy as np
import pytest
import soundfile
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from multistyle.web.app import create_app  # noqa: E402


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
