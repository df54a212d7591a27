"""The local web studio (`multistyle serve`): one FastAPI app over the public API and one hand-written page.

Why FastAPI and not Gradio: the page must fetch nothing from the internet (Gradio's default themes load
web fonts from a CDN), the install stays small, and the queueing is ours to choose: feed-forward requests
(AdaIN, per-style networks, text) run in the request thread pool with at most IMAGE_SLOTS at a time, while
Gatys runs as a cancellable job on its own single worker, so one slow optimisation never blocks them.

What guards it (docs/studio.md, "Security"): a `Host` header that is not this machine's name or an address is refused (400:
DNS rebinding), and so is a state-changing request that another site's page sends (its `Origin`/`Referer`: 403);
no CORS headers are ever sent. Bodies are capped in bytes before they are parsed, uploads are decoded on the
workers with the decode guard of multistyle.image.io (pixels and memory, from the header), every queue is bounded
(503 when full), the Gatys job store is bounded and finished jobs expire. Per-style networks are chosen by shipped
name, never by a path on the server. Every error is one JSON line: {"error": "..."}.
"""
import asyncio
import base64
import ctypes
import errno
import ipaddress
import math
import os
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from multistyle import samples
from multistyle.errors import InputError, MultistyleError

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = 25 * 2**20
MAX_BODY_BYTES = 3 * MAX_UPLOAD_BYTES + 2**20  # three uploads and the form fields; larger bodies are refused unread
MAX_UPLOAD_PIXELS = 25_000_000  # an uploaded image's pixels (a 6000x4000 photo): the studio makes at most MAX_SIZE
MAX_SENTENCE = 2000  # characters of the text tab's sentence
MAX_SIZE = 1024  # long side of any image the studio makes
IMAGE_SLOTS = 2  # feed-forward image requests computed at once; the rest wait their turn
IMAGE_WAITING = 64  # requests that may wait for a slot (holding their upload bytes only); more are answered 503 at once
QUEUE_BYTES = 256 * 2**20  # uploaded bytes the waiting requests of one lane may hold together
AUDIO_SLOTS, AUDIO_WAITING = 1, 2
GATYS_PENDING = 4  # Gatys jobs queued or running at once
GATYS_KEPT = 32  # jobs remembered; finished ones go oldest first, and JOB_TTL seconds after they end
JOB_TTL = 600.0
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SAMPLE_PHOTOS = {"cat": "chelsea.png", "coffee": "coffee.png", "astronaut": "astronaut.png", "rocket": "rocket.jpg"}
SAMPLE_STYLES = {name: samples.painting(name) for name in samples.paintings()}  # the bundled public-domain paintings
AUDIO_SECONDS = 4.0


class Cancelled(Exception):
    """Raised inside a Gatys job's progress callback when the page cancelled it."""


class Busy(MultistyleError):
    """A queue of the studio is full: answered 503, try again shortly."""


@dataclass
class Job:
    total: int
    status: str = "queued"  # queued, running, done, failed, cancelled
    step: int = 0
    losses: dict = field(default_factory=dict)
    image: str | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: float | None = None  # time.monotonic() when it stopped

    @property
    def pending(self) -> bool:
        return self.status in ("queued", "running")


class Lane:
    """A worker pool with a bounded queue: `workers` compute, at most `waiting` more wait, and the uploads they hold
    stay under `max_bytes` together; beyond that a request is refused at once (Busy) instead of piling up. A slot
    is freed when its work ends, not when the client goes away, so the bound holds for work already queued."""

    def __init__(self, name: str, workers: int, waiting: int, max_bytes: int = QUEUE_BYTES):
        self.name, self.executor = name, ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.limit, self.max_bytes = workers + waiting, max_bytes
        self.count = self.bytes = 0
        self.lock = threading.Lock()

    def reserve(self, nbytes: int) -> None:
        with self.lock:
            if self.count >= self.limit or self.bytes + nbytes > self.max_bytes:
                raise Busy(f"the studio is busy ({self.count} {self.name} requests queued); try again in a moment")
            self.count += 1
            self.bytes += nbytes

    def release(self, nbytes: int) -> None:
        with self.lock:
            self.count -= 1
            self.bytes -= nbytes
            idle = self.count == 0
        if idle:
            trim_heap()

    def submit(self, fn, nbytes: int):
        """Run `fn` on a worker once reserve(nbytes) succeeded; the reservation ends with the work."""
        try:
            future = self.executor.submit(fn)
        except BaseException:
            self.release(nbytes)
            raise
        future.add_done_callback(lambda _: self.release(nbytes))
        return future


def trim_heap() -> None:
    """Give freed heap pages back to the system (glibc keeps a decoded photo's worth per worker thread otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def upload_bytes(*uploads: UploadFile | None) -> int:
    return sum((u.size or 0) for u in uploads if u is not None and u.filename)


def number(value: float, name: str, low: float, high: float) -> float:
    """A form number checked finite and in range (FastAPI's float fields accept "nan" and "inf")."""
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, not {value}")
    return value


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


def sample_path(name: str | Path) -> Path:
    """A bundled painting's file (a Path already), or a scikit-image sample photo's by its file name."""
    from multistyle.demo import skimage_sample

    return name if isinstance(name, Path) else skimage_sample(name)


@lru_cache(maxsize=16)
def network_card(name: str) -> bytes:
    """A shipped per-style network's thumbnail (PNG): its painting, where that ships, beside the sample photo in its style."""
    from multistyle.image.figure import styles_sheet
    from multistyle.image.io import encode_image, load_image

    photo = load_image(sample_path(SAMPLE_PHOTOS["cat"]), 256)
    return encode_image(styles_sheet([name], photo, columns=2, height=120, title=False), ".png")


def check_sample(sample: str | None, table: dict[str, str], role: str) -> None:
    if sample and sample not in table:
        raise InputError(f"no sample {role} {sample[:40]!r}; choose one of {', '.join(table)}")


def image_input(data: bytes | None, sample: str | None, table: dict[str, str], role: str):
    """An uploaded image (checked like a file, and at most MAX_UPLOAD_PIXELS) or a bundled sample, as a PIL image.
    Called on a worker: decoding is bounded by the lane, not by the number of requests."""
    from multistyle.image.io import load_pil, load_pil_bytes

    if data is not None:
        image = load_pil_bytes(data, f"uploaded {role}", max_pixels=MAX_UPLOAD_PIXELS)
        # The studio makes at most MAX_SIZE pixels: a large photo is box-reduced in PIL (bytes, not the 12 bytes a
        # pixel of a float tensor) to no less than twice that, and the method's own antialiased resize does the rest.
        factor = max(image.size) // (2 * MAX_SIZE)
        return image.reduce(factor) if factor >= 2 else image
    check_sample(sample, table, role)
    if sample:
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


def split_host(value: str) -> tuple[str, str | None]:
    """A Host header's name and port ("[::1]:7860" -> ("::1", "7860")); the name lower-cased, no final dot."""
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else (None if not rest else "?")
    else:
        name, colon, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        port = port if colon else None
    return name.lower().rstrip("."), port


def host_names(host: str, extra: tuple[str, ...] = ()) -> set[str]:
    """The names a request's Host may carry besides IP addresses: localhost, the bound name, and, when the studio
    listens on every interface, this machine's own names; `extra` (MULTISTYLE_STUDIO_HOSTS) for a proxy's name."""
    names = {"localhost", *(n.lower().rstrip(".") for n in extra if n)}
    if host in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    else:
        names.add(split_host(host)[0])
    return names


def host_allowed(value: str | None, names: set[str]) -> bool:
    """Whether a Host header names this studio. A page from another site reaches a local server by DNS rebinding
    only under its own domain name, so only names this machine answers to (and IP addresses) are accepted."""
    if not value:
        return False
    name, port = split_host(value)
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        return False
    if name in names:
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def origin_of(url: str) -> str | None:
    """The host[:port] of an Origin or Referer header (None for "null" and other non-web origins)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


def refusal(method: str, headers: list[tuple[bytes, bytes]], names: set[str]) -> tuple[int, str] | None:
    """(status, message) when a request must be refused before the app sees it, else None."""
    found: dict[str, list[str]] = {}
    for key, value in headers:
        found.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    hosts = found.get("host", [])
    if len(hosts) != 1 or not host_allowed(hosts[0], names):
        shown = hosts[0][:60] if hosts else "none"
        return 400, (f"this studio answers requests for localhost or an address of this machine, not Host {shown!r} "
                     "(set MULTISTYLE_STUDIO_HOSTS to allow a name)")
    if method in SAFE_METHODS:
        return None
    here = hosts[0].lower()
    origin = found.get("origin", [None])[-1]
    referer = found.get("referer", [None])[-1]
    if origin is not None and origin_of(origin) != here or origin is None and referer is not None and origin_of(referer) != here:
        return 403, "this studio only answers its own page: a request from another site was refused"
    if found.get("sec-fetch-site", [""])[-1] == "cross-site":
        return 403, "this studio only answers its own page: a request from another site was refused"
    length = found.get("content-length", [])
    if not length:
        if "chunked" in ",".join(found.get("transfer-encoding", [])).lower():
            return 411, "send a Content-Length: bodies of unknown length are refused"
    elif not length[-1].isdigit():
        return 400, "Content-Length is not a number"
    elif int(length[-1]) > MAX_BODY_BYTES:
        return 413, f"the request is larger than {MAX_BODY_BYTES // 2**20} MB; uploads are at most {MAX_UPLOAD_BYTES // 2**20} MB each"
    return None


class Guard:
    """ASGI middleware in front of the app: Host, Origin/Referer and body size (see `refusal`), and headers that
    keep other sites from framing the page or sniffing responses. No CORS header is ever added."""

    HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"content-security-policy", b"frame-ancestors 'none'"), (b"referrer-policy", b"same-origin")]

    def __init__(self, app, names: set[str]):
        self.app, self.names = app, names

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        problem = refusal(scope["method"], scope["headers"], self.names)
        if problem is not None:
            status, text = problem
            return await JSONResponse({"error": text}, status_code=status)(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def first_problem(error: RequestValidationError) -> str:
    """FastAPI's validation errors (a list of dicts) as one readable line."""
    problems = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path"))
        problems.append(f"{where or 'request'}: {item.get('msg', 'invalid')}" + (
            f" (got {str(item['input'])[:40]!r})" if isinstance(item.get("input"), (str, int, float)) else ""))
    return "; ".join(problems) or "invalid request"


def create_app(host: str = "127.0.0.1", allowed_hosts: tuple[str, ...] = ()) -> FastAPI:
    """The studio as served on `host` (which names a request's Host may carry: see host_allowed)."""
    app = FastAPI(title="multistyle studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(Guard, names=host_names(host, allowed_hosts))
    # Feed-forward work runs on IMAGE_SLOTS threads of its own: a queue, and a bound on memory too (every thread
    # that computes keeps its own allocator arena, so the request pool's 40 threads would each hold one).
    image_lane = Lane("image", IMAGE_SLOTS, IMAGE_WAITING)
    audio_lane = Lane("audio", AUDIO_SLOTS, AUDIO_WAITING)
    gatys_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gatys")
    jobs: dict[str, Job] = {}
    jobs_lock = threading.Lock()

    @app.exception_handler(MultistyleError)
    async def one_line(request: Request, error: MultistyleError):
        return JSONResponse({"error": str(error)}, status_code=503 if isinstance(error, Busy) else 400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        return JSONResponse({"error": first_problem(error)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        return JSONResponse({"error": f"internal error: {type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"},
                            status_code=500)

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
                "style_titles": {name: samples.title(name) for name in SAMPLE_STYLES}, "max_size": MAX_SIZE}

    @app.get("/api/sample/{kind}/{name}")
    def sample(kind: str, name: str):
        from multistyle.image.io import encode_image, load_image

        tables = {"photo": SAMPLE_PHOTOS, "style": SAMPLE_STYLES}
        if kind == "network":  # a shipped network's painting beside the sample photo in its style (by shipped name only)
            from multistyle.image.fast import shipped_styles

            if name not in shipped_styles():
                return JSONResponse({"error": f"no shipped network {name[:40]!r}"}, status_code=404)
            return Response(network_card(name), media_type="image/png")
        if kind not in tables or name not in tables[kind]:
            return JSONResponse({"error": f"no sample {kind[:20]!r}/{name[:40]!r}"}, status_code=404)
        return Response(encode_image(load_image(sample_path(tables[kind][name]), 192), ".png"), media_type="image/png")

    @app.post("/api/image")
    async def image(
        method: str = Form("adain"), content_sample: str | None = Form(None), style_sample: str | None = Form(None),
        style2_sample: str | None = Form(None), fast_style: str | None = Form(None), alpha: float = Form(1.0),
        blend: float = Form(0.0), size: int = Form(512), preserve_color: bool = Form(False),
        content: UploadFile | None = File(None), style: UploadFile | None = File(None), style2: UploadFile | None = File(None),
    ):
        """AdaIN (alpha, a second style blended in) or a per-style network (alpha, its content-style mix too)."""
        size = checked_size(size)
        alpha = number(alpha, "alpha", 0.0, 1.0)
        blend = number(blend, "blend", 0.0, 1.0)
        check_sample(content_sample, SAMPLE_PHOTOS, "photo")
        if method == "fast":
            from multistyle.image.fast import shipped_styles

            if not fast_style:
                raise InputError("choose a trained style for the fast method")
            if fast_style not in shipped_styles():  # a shipped name, never a path on this machine
                raise InputError(f"unknown style {fast_style[:40]!r}; the shipped ones are {', '.join(shipped_styles()) or 'none'}")
            uploads = (content,)
        elif method == "adain":
            check_sample(style_sample, SAMPLE_STYLES, "style")
            check_sample(style2_sample, SAMPLE_STYLES, "second style")
            uploads = (content, style, style2)
        else:
            raise InputError(f"method must be adain or fast here (Gatys runs as a job), not {method[:40]!r}")
        nbytes = upload_bytes(*uploads)
        image_lane.reserve(nbytes)  # before the uploads are read into memory
        try:
            data = [await read_upload(u) for u in uploads]
        except BaseException:
            image_lane.release(nbytes)
            raise

        def compute():
            content_image = image_input(data[0], content_sample, SAMPLE_PHOTOS, "content")
            if method == "fast":
                return fast_model(fast_style)(content_image, size=size, alpha=alpha, preserve_color=preserve_color)
            styles = [image_input(data[1], style_sample, SAMPLE_STYLES, "style")]
            if (data[2] is not None or style2_sample) and blend > 0:
                styles.append(image_input(data[2], style2_sample, SAMPLE_STYLES, "second style"))
            weights = (1 - blend, blend) if len(styles) == 2 else None
            return adain_model()(content_image, styles, alpha=alpha, size=size, style_blend=weights, preserve_color=preserve_color)

        result = await asyncio.wrap_future(image_lane.submit(compute, nbytes))
        return {"image": png_url(result.tensor), "seconds": round(result.seconds, 3), "size": list(result.size)}

    def prune_jobs() -> None:
        """Forget jobs that ended JOB_TTL seconds ago, then the oldest ended ones beyond GATYS_KEPT."""
        now = time.monotonic()
        with jobs_lock:
            for job_id in [k for k, j in jobs.items() if j.ended is not None and now - j.ended > JOB_TTL]:
                del jobs[job_id]
            ended = sorted((j.ended, k) for k, j in jobs.items() if j.ended is not None)
            for _, job_id in ended[: max(0, len(jobs) - GATYS_KEPT + 1)]:
                del jobs[job_id]

    @app.post("/api/gatys")
    async def gatys(
        content_sample: str | None = Form(None), style_sample: str | None = Form(None), steps: int = Form(100),
        style_weight: float = Form(1e3), size: int = Form(256), preserve_color: bool = Form(False),
        content: UploadFile | None = File(None), style: UploadFile | None = File(None),
    ):
        """Start a Gatys optimisation; poll GET /api/gatys/ID for its progress, DELETE it to cancel."""
        from multistyle.core.config import with_overrides
        from multistyle.image.gatys import Gatys, GatysConfig

        check_sample(content_sample, SAMPLE_PHOTOS, "photo")
        check_sample(style_sample, SAMPLE_STYLES, "style")
        if not 1 <= steps <= 1000:
            raise InputError(f"steps must be between 1 and 1000, not {steps}")
        config = with_overrides(GatysConfig(), {"size": checked_size(size), "steps": steps,
                                                "style_weight": number(style_weight, "style weight", 0.0, 1e12),
                                                "preserve_color": "luminance" if preserve_color else None})
        config.validate(1)
        prune_jobs()
        with jobs_lock:
            if sum(j.pending for j in jobs.values()) >= GATYS_PENDING or len(jobs) >= GATYS_KEPT:
                raise Busy(f"{GATYS_PENDING} Gatys jobs are already queued or running; wait for one to finish or cancel it")
            job_id, job = uuid.uuid4().hex, Job(total=steps)
            jobs[job_id] = job
        try:
            data = [await read_upload(content), await read_upload(style)]
        except BaseException:
            with jobs_lock:
                jobs.pop(job_id, None)
            raise

        def progress(level, step, image, terms):
            if job.cancel.is_set():
                raise Cancelled
            job.step, job.losses = step, {k: round(v, 4) for k, v in terms.items()}

        def run():
            try:
                if job.cancel.is_set():
                    job.status = "cancelled"
                    return
                job.status = "running"
                content_image = image_input(data[0], content_sample, SAMPLE_PHOTOS, "content")
                style_image = image_input(data[1], style_sample, SAMPLE_STYLES, "style")
                data.clear()
                result = Gatys(config)(content_image, style_image, on_snapshot=progress)
                job.image, job.status = png_url(result.tensor), "done"
            except Cancelled:
                job.status = "cancelled"
            except MultistyleError as e:
                job.error, job.status = str(e), "failed"
            except Exception as e:  # noqa: BLE001 - the page shows it; the worker must live on
                job.error, job.status = f"internal error: {type(e).__name__}: {e}", "failed"
            finally:
                data.clear()
                job.ended = time.monotonic()

        gatys_worker.submit(run)
        return {"job": job_id, "total": steps}

    @app.get("/api/gatys/{job_id}")
    def gatys_status(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id[:40]!r} (finished jobs are kept {JOB_TTL / 60:.0f} minutes)"}, status_code=404)
        return {"status": job.status, "step": job.step, "total": job.total, "losses": job.losses, "image": job.image,
                "error": job.error}

    @app.delete("/api/gatys/{job_id}")
    def gatys_cancel(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id[:40]!r}"}, status_code=404)
        job.cancel.set()
        return {"status": "cancelling"}

    @app.post("/api/text")
    def text(sentence: str = Form(...), to: str = Form("flip"), strength: float | None = Form(None)):
        if len(sentence) > MAX_SENTENCE:
            raise InputError(f"the sentence is {len(sentence)} characters long; at most {MAX_SENTENCE} here")
        if strength is not None:
            strength = number(strength, "strength", 0.0, 100.0)
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
        nbytes = upload_bytes(content, style)
        audio_lane.reserve(nbytes)
        try:
            uploads = [await read_upload(content), await read_upload(style)]
        except BaseException:
            audio_lane.release(nbytes)
            raise
        names = tuple(u.filename if u is not None else None for u in (content, style))
        return await asyncio.wrap_future(audio_lane.submit(lambda: transfer_clips(config, uploads, names, use_demo), nbytes))

    return app


def transfer_clips(config, uploads: list[bytes | None], names: tuple, use_demo: bool) -> dict:
    """The audio tab's work, off the event loop: uploaded clips go through temporary files (so every format the
    CLI reads works), the result comes back as a WAV and its spectrogram figure."""
    from multistyle.audio.samples import melody, percussive_texture
    from multistyle.audio.transfer import AudioTransfer

    with tempfile.TemporaryDirectory() as folder:
        if all(u is not None for u in uploads):
            clips = []
            for role, data, name in zip(("content", "style"), uploads, names):
                suffix = Path(name or "").suffix.lower()
                suffix = suffix if suffix.isascii() and suffix[1:].isalnum() and len(suffix) <= 6 else ".wav"
                path = Path(folder) / f"{role}{suffix}"
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


def check_address(host: str, port: int) -> None:
    """Refuse (one line) an address the studio cannot listen on: a busy port, an unknown host name, no permission."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise InputError(f"--host {host}: not an address of this machine ({e.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as e:
            busy = " (another program, or another studio, listens there); choose another with --port" if e.errno == errno.EADDRINUSE else ""
            raise InputError(f"cannot listen on {host}:{port}: {e.strerror}{busy}") from None


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    check_address(host, port)

    extra = tuple(n.strip() for n in os.environ.get("MULTISTYLE_STUDIO_HOSTS", "").split(",") if n.strip())
    uvicorn.run(create_app(host, extra), host=host, port=port, log_level="warning")
