"""The local web studio (`multistyle serve`): one FastAPI app over the public API and one hand-written page.

Why FastAPI and not Gradio: the page must fetch nothing from the internet (Gradio's default themes load
web fonts from a CDN), the install stays small, and the queueing is ours to choose: feed-forward requests
(AdaIN, per-style networks, text) run in the request thread pool with at most IMAGE_SLOTS at a time, while
Gatys runs as a cancellable job on its own single worker, so one slow optimisation never blocks them.
"""
import asyncio
import base64
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from multistyle.errors import InputError, MultistyleError

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = 25 * 2**20
MAX_SIZE = 1024  # long side of any image the studio makes
IMAGE_SLOTS = 2  # feed-forward image requests computed at once; the rest wait their turn
SAMPLE_PHOTOS = {"cat": "chelsea.png", "coffee": "coffee.png", "astronaut": "astronaut.png", "rocket": "rocket.jpg"}
SAMPLE_STYLES = {"cells (ihc)": "ihc.png", "coffee": "coffee.png", "hubble": "hubble_deep_field.jpg", "retina": "retina.jpg"}
AUDIO_SECONDS = 4.0


class Cancelled(Exception):
    """Raised inside a Gatys job's progress callback when the page cancelled it."""


@dataclass
class Job:
    total: int
    status: str = "queued"  # queued, running, done, failed, cancelled
    step: int = 0
    losses: dict = field(default_factory=dict)
    image: str | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_url(tensor) -> str:
    from multistyle.image.io import encode_image

    return data_url(encode_image(tensor, ".png"), "image/png")


async def read_upload(upload: UploadFile | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"{upload.filename}: larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    return data


def sample_path(name: str):
    from multistyle.demo import skimage_sample

    return skimage_sample(name)


def image_input(data: bytes | None, sample: str | None, table: dict[str, str], role: str):
    """An uploaded image (checked like a file) or a bundled sample, as a PIL image."""
    from multistyle.image.io import load_pil, load_pil_bytes

    if data is not None:
        return load_pil_bytes(data, f"uploaded {role}")
    if sample in table:
        return load_pil(sample_path(table[sample]))
    raise InputError(f"choose or upload a {role} image")


def checked_size(size: int) -> int:
    if not 64 <= size <= MAX_SIZE:
        raise InputError(f"size must be between 64 and {MAX_SIZE} pixels, not {size}")
    return size


@lru_cache(maxsize=1)
def adain_model():
    from multistyle.image.adain import AdaIN

    return AdaIN.from_pretrained()


@lru_cache(maxsize=8)
def fast_model(name: str):
    from multistyle.image.fast import FastStyle

    return FastStyle.from_pretrained(name)


@lru_cache(maxsize=1)
def text_model():
    from multistyle.text.transfer import TextTransfer

    return TextTransfer.from_pretrained()


def create_app() -> FastAPI:
    app = FastAPI(title="multistyle studio", docs_url=None, redoc_url=None)
    # Feed-forward work runs on IMAGE_SLOTS threads of its own: a queue, and a bound on memory too (every thread
    # that computes keeps its own allocator arena, so the request pool's 40 threads would each hold one).
    image_workers = ThreadPoolExecutor(max_workers=IMAGE_SLOTS, thread_name_prefix="image")
    gatys_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gatys")
    jobs: dict[str, Job] = {}

    @app.exception_handler(MultistyleError)
    async def one_line(request: Request, error: MultistyleError):
        return JSONResponse({"error": str(error)}, status_code=400)

    @app.get("/")
    def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/static/{name}")
    def static(name: str):
        path = (STATIC / name).resolve()
        if path.parent != STATIC or not path.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(path)

    @app.get("/api/info")
    def info():
        from multistyle.image.fast import shipped_styles

        return {"photos": list(SAMPLE_PHOTOS), "styles": list(SAMPLE_STYLES), "fast_styles": list(shipped_styles()),
                "max_size": MAX_SIZE}

    @app.get("/api/sample/{kind}/{name}")
    def sample(kind: str, name: str):
        from multistyle.image.io import encode_image, load_image

        table = SAMPLE_PHOTOS if kind == "photo" else SAMPLE_STYLES
        if name not in table:
            return JSONResponse({"error": f"no sample {name!r}"}, status_code=404)
        return Response(encode_image(load_image(sample_path(table[name]), 192), ".png"), media_type="image/png")

    @app.post("/api/image")
    async def image(
        method: str = Form("adain"), content_sample: str | None = Form(None), style_sample: str | None = Form(None),
        style2_sample: str | None = Form(None), fast_style: str | None = Form(None), alpha: float = Form(1.0),
        blend: float = Form(0.0), size: int = Form(512), preserve_color: bool = Form(False),
        content: UploadFile | None = File(None), style: UploadFile | None = File(None), style2: UploadFile | None = File(None),
    ):
        """AdaIN (alpha, a second style blended in) or a per-style network (alpha is its strength)."""
        content_image = image_input(await read_upload(content), content_sample, SAMPLE_PHOTOS, "content")
        size = checked_size(size)
        if method == "fast":
            if not fast_style:
                raise InputError("choose a trained style for the fast method")

            def compute():
                return fast_model(fast_style)(content_image, size=size, strength=alpha, preserve_color=preserve_color)
        elif method == "adain":
            styles = [image_input(await read_upload(style), style_sample, SAMPLE_STYLES, "style")]
            second = await read_upload(style2)
            if (second is not None or style2_sample) and blend > 0:
                styles.append(image_input(second, style2_sample, SAMPLE_STYLES, "second style"))
            weights = (1 - blend, blend) if len(styles) == 2 else None

            def compute():
                return adain_model()(content_image, styles, alpha=alpha, size=size, style_blend=weights, preserve_color=preserve_color)
        else:
            raise InputError(f"method must be adain or fast here (Gatys runs as a job), not {method!r}")

        result = await asyncio.wrap_future(image_workers.submit(compute))
        return {"image": png_url(result.tensor), "seconds": round(result.seconds, 3), "size": list(result.size)}

    @app.post("/api/gatys")
    async def gatys(
        content_sample: str | None = Form(None), style_sample: str | None = Form(None), steps: int = Form(100),
        style_weight: float = Form(1e3), size: int = Form(256), preserve_color: bool = Form(False),
        content: UploadFile | None = File(None), style: UploadFile | None = File(None),
    ):
        """Start a Gatys optimisation; poll GET /api/gatys/ID for its progress, DELETE it to cancel."""
        from multistyle.core.config import with_overrides
        from multistyle.image.gatys import Gatys, GatysConfig

        content_image = image_input(await read_upload(content), content_sample, SAMPLE_PHOTOS, "content")
        style_image = image_input(await read_upload(style), style_sample, SAMPLE_STYLES, "style")
        if not 1 <= steps <= 1000:
            raise InputError(f"steps must be between 1 and 1000, not {steps}")
        config = with_overrides(GatysConfig(), {"size": checked_size(size), "steps": steps, "style_weight": style_weight,
                                                "preserve_color": "luminance" if preserve_color else None})
        config.validate(1)
        job_id, job = uuid.uuid4().hex[:12], Job(total=steps)
        jobs[job_id] = job

        def progress(level, step, image, terms):
            if job.cancel.is_set():
                raise Cancelled
            job.step, job.losses = step, {k: round(v, 4) for k, v in terms.items()}

        def run():
            if job.cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"
            try:
                result = Gatys(config)(content_image, style_image, on_snapshot=progress)
                job.image, job.status = png_url(result.tensor), "done"
            except Cancelled:
                job.status = "cancelled"
            except MultistyleError as e:
                job.error, job.status = str(e), "failed"

        gatys_worker.submit(run)
        return {"job": job_id, "total": steps}

    @app.get("/api/gatys/{job_id}")
    def gatys_status(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id}"}, status_code=404)
        return {"status": job.status, "step": job.step, "total": job.total, "losses": job.losses, "image": job.image,
                "error": job.error}

    @app.delete("/api/gatys/{job_id}")
    def gatys_cancel(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id}"}, status_code=404)
        job.cancel.set()
        return {"status": "cancelling"}

    @app.post("/api/text")
    def text(sentence: str = Form(...), to: str = Form("flip"), strength: float | None = Form(None)):
        model = text_model()
        result = model(sentence, to, strength=strength)
        before, after = model.positive_probability([sentence, result.text])
        return {"output": result.text, "strength": result.strength, "positive_before": round(before, 3),
                "positive_after": round(after, 3)}

    @app.post("/api/audio")
    async def audio(
        extractor: str = Form("random"), steps: int | None = Form(None), use_demo: bool = Form(True),
        content: UploadFile | None = File(None), style: UploadFile | None = File(None),
    ):
        """Grinstein et al.'s transfer of two uploaded clips (or the synthesised demo melody and rain)."""
        from multistyle.audio.config import GrinsteinConfig
        from multistyle.core.config import with_overrides

        config = with_overrides(GrinsteinConfig(), {"extractor": extractor, "steps": steps})
        config.validate()
        if config.evaluations > 300:
            raise InputError(f"steps must be at most 300 here, not {config.evaluations}")
        uploads = [await read_upload(content), await read_upload(style)]
        return await run_in_threadpool(transfer_clips, config, uploads, (content, style), use_demo)

    return app


def transfer_clips(config, uploads: list[bytes | None], files: tuple, use_demo: bool) -> dict:
    """The audio tab's work, off the event loop: uploaded clips go through temporary files (so every format the
    CLI reads works), the result comes back as a WAV and its spectrogram figure."""
    from multistyle.audio.samples import melody, percussive_texture
    from multistyle.audio.transfer import AudioTransfer

    with tempfile.TemporaryDirectory() as folder:
        if all(u is not None for u in uploads):
            clips = []
            for role, data, upload in zip(("content", "style"), uploads, files):
                path = Path(folder) / f"{role}{Path(upload.filename).suffix.lower() or '.wav'}"
                path.write_bytes(data)
                clips.append(path)
            rate = None
        elif use_demo:
            rate = config.sample_rate
            clips = [melody(AUDIO_SECONDS, rate).numpy(), percussive_texture(AUDIO_SECONDS, rate).numpy()]
        else:
            raise InputError("upload a content and a style clip, or use the demo clips")
        started = time.perf_counter()
        result = AudioTransfer(config)(*clips, sample_rate=rate)
        out = Path(folder) / "result.wav"
        result.save(out, report=False)
        wav, plot = out.read_bytes(), out.with_suffix(".png").read_bytes()
    return {"audio": data_url(wav, "audio/wav"), "spectrogram": data_url(plot, "image/png"), "summary": result.summary(),
            "seconds": round(time.perf_counter() - started, 2)}


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")

