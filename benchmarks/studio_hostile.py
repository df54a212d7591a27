"""The studio under hostile requests (issues 43, 37): a real `multistyle serve`, its memory (RSS, and the peak the
kernel saw) through 20 concurrent 12 KB bomb uploads (99 megapixels, refused from the header), 20 concurrent uploads
just under the studio's 25-megapixel cap (1-bit, decoded on the two workers), then 50 concurrent requests with
hostile ones among them (foreign Host, another site's Origin, NaN, bombs, unknown names). Every request must be
answered: an image or a one-line JSON error.

Usage: python benchmarks/studio_hostile.py [--port 7863]   Writes benchmarks/results/studio_hostile.md.
"""
import argparse
import io
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from multistyle.core.runtime import cpu_name

ROOT = Path(__file__).resolve().parents[1]


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM): resident now and its peak, in MiB."""
    values = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line[:5]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def png_1bit(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7863)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    bomb, near_cap = png_1bit(9950), png_1bit(4999)
    server = subprocess.Popen([sys.executable, "-m", "multistyle", "serve", "--port", str(args.port)], stdout=subprocess.DEVNULL)
    rows = []
    try:
        for _ in range(120):
            try:
                httpx.get(f"{url}/api/info", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        small = {"method": "adain", "content_sample": "cat", "style_sample": "coffee", "size": 64}
        httpx.post(f"{url}/api/image", data=small, timeout=300).raise_for_status()  # loads the model
        first = memory_mib(server.pid)

        def post(form=small, files=None, headers=None):
            start = time.perf_counter()
            answer = httpx.post(f"{url}/api/image", data=form, files=files, headers=headers, timeout=600)
            body = answer.json()
            one_line = isinstance(body.get("error", ""), str) and "\n" not in body.get("error", "")
            return answer.status_code, one_line and ("image" in body or "error" in body), time.perf_counter() - start

        def batch(name, calls):
            start = time.perf_counter()
            with ThreadPoolExecutor(len(calls)) as pool:
                results = list(pool.map(lambda call: call(), calls))
            wall = time.perf_counter() - start
            rss, peak = memory_mib(server.pid)
            codes = Counter(code for code, _, _ in results)
            answered = sum(ok for _, ok, _ in results)
            rows.append(f"| {name} | {len(calls)} | {answered} | {', '.join(f'{k}: {v}' for k, v in sorted(codes.items()))} | "
                        f"{wall:.1f} | {rss:.0f} | {peak:.0f} |")

        upload = lambda data: {"content": ("photo.png", data, "image/png")}  # noqa: E731
        batch("12 KB PNG, 9950x9950 (99 MP)", [lambda: post(files=upload(bomb)) for _ in range(20)])
        batch(f"{len(near_cap) // 1024} KB PNG, 4999x4999 (25 MP, under the cap)", [lambda: post(files=upload(near_cap)) for _ in range(20)])
        hostile = [lambda: post(headers={"host": "evil.example"}), lambda: post(headers={"origin": "http://evil.example"}),
                   lambda: post({**small, "blend": "nan"}), lambda: post(files=upload(bomb)),
                   lambda: post({**small, "method": "fast", "fast_style": "/etc/passwd"})]
        batch("50 mixed: 30 small AdaIN, 20 hostile", [lambda: post() for _ in range(30)] + hostile * 4)
    finally:
        server.terminate()
        server.wait(30)
    lines = [
        "# The studio under hostile requests",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end, other jobs "
        f"included); {time.strftime('%Y-%m-%d')}. `python benchmarks/studio_hostile.py`. Each batch is sent at once, "
        "concurrently; answered = an image or a one-line JSON error.",
        "",
        f"Server memory after loading AdaIN and answering one request: {first[0]:.0f} MiB resident.",
        "",
        "| batch | requests | answered | statuses | wall s | RSS after, MiB | peak RSS so far, MiB |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
        *rows,
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / "studio_hostile.md").write_text(table)


if __name__ == "__main__":
    main()
