"""Load on the studio: N concurrent AdaIN requests at 512 px against a local `multistyle serve`; every answer must
be an image, and the server's memory must not grow beyond the one model copy it loads for the first request.

Usage: python benchmarks/web_load.py [--requests 20] [--port 7862]   Writes benchmarks/results/web_load.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from multistyle.core.runtime import cpu_name

ROOT = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--port", type=int, default=7862)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen([sys.executable, "-m", "multistyle", "serve", "--port", str(args.port)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                httpx.get(f"{url}/api/info", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        form = {"method": "adain", "content_sample": "cat", "style_sample": "coffee", "size": 512}
        warm = httpx.post(f"{url}/api/image", data=form, timeout=300)  # loads the model: the one copy
        warm.raise_for_status()
        before = rss_mib(server.pid)

        def one(_):
            start = time.perf_counter()
            answer = httpx.post(f"{url}/api/image", data=form, timeout=600)
            return answer.status_code, answer.json().get("image", "")[:22], time.perf_counter() - start

        rounds = []
        for _ in range(2):  # a second round shows whether memory keeps growing
            start = time.perf_counter()
            with ThreadPoolExecutor(args.requests) as pool:
                results = list(pool.map(one, range(args.requests)))
            rounds.append((results, time.perf_counter() - start, rss_mib(server.pid)))
    finally:
        server.terminate()
        server.wait(30)
    def row(number: int, results: list, wall: float, rss: float) -> str:
        ok = sum(code == 200 and prefix == "data:image/png;base64," for code, prefix, _ in results)
        latencies = sorted(t for _, _, t in results)
        p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
        return (f"| {number} | {len(results)} | {ok} | {wall:.1f} | {len(results) / wall:.2f} | {statistics.median(latencies):.1f} | "
                f"{p95:.1f} | {rss:.0f} |")

    cpu = cpu_name()
    load = os.getloadavg()[0]
    lines = [
        f"# Studio load: {args.requests} concurrent AdaIN requests at 512 px",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores (load average {load:.1f} at the end, other jobs included); "
        f"{time.strftime('%Y-%m-%d')}. The server computes at most 2 image requests at once; the rest queue.",
        "",
        f"Server RSS after the model loaded and answered one request: {before:.0f} MiB.",
        "",
        "| round | requests | images returned | wall s | requests/s | median latency s | p95 latency s | server RSS MiB after |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[row(i, *r) for i, r in enumerate(rounds, 1)],
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / "web_load.md").write_text(table)


if __name__ == "__main__":
    main()
