"""Peak memory of a long video job: streamed (decode -> stylise -> blend -> store, frame by frame, issue 38) against
every frame in memory (read_clip, outputs kept to the end: the pipeline before issue 38, and the API without an output).

The clip: Sintel ambush_3 (41 frames, 1024x436) played forwards and backwards until it is --frames long, written once
as H.264 into out/video_memory/. The job: the shipped `wave` network, blending 0.7, --size px on the long side. The process's
resident memory (VmRSS) and its peak so far (VmHWM) are sampled every --every frames, from inside the stylisation.
Usage: python benchmarks/video_memory.py --mode stream|memory [--frames 300] [--size 640] [--every 50] [--tag NAME]
Prints a markdown table and writes benchmarks/results/video_memory_MODE[_TAG].md. Run it against the code before
issue 38 with PYTHONPATH pointing at that tree and --mode memory (the only mode it had).
"""
import argparse
import os
import time
from pathlib import Path

import av
import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "video" / "sintel_ambush_3.mp4"
OUT = ROOT / "out" / "video_memory"


def memory_mib() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def make_clip(frames: int) -> Path:
    path = OUT / f"ambush_loop_{frames}.mp4"
    if path.is_file():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    with av.open(str(DATA)) as source:
        loop = [f.to_ndarray(format="rgb24") for f in source.decode(source.streams.video[0])]
    order = loop + loop[-2:0:-1]  # forwards, then backwards: no jump where it repeats
    tmp = path.with_name(".making.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = loop[0].shape[1], loop[0].shape[0], "yuv420p"
        for i in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(order[i % len(order)], format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("stream", "memory"), required=True)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", type=int, default=640, help="output long side (640: 640x272 from Sintel's 1024x436)")
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--style", default="wave")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    clip = make_clip(args.frames)
    from multistyle.video import stylize

    samples, start = [], time.perf_counter()
    start_rss = memory_mib()[0]
    real = stylize.VideoTransfer._stylizer

    def counting(self, style, size):  # every --every frames, the memory as the frame is stylised
        inner, done = real(self, style, size), [0]

        def stylise(frame, prior):
            done[0] += 1
            if done[0] == 1 or done[0] % args.every == 0:
                samples.append((done[0], *memory_mib(), time.perf_counter() - start))
                print(samples[-1], flush=True)
            return inner(frame, prior)
        return stylise

    stylize.VideoTransfer._stylizer = counting
    transfer = stylize.VideoTransfer(method="fast", temporal=0.7, size=args.size)
    output = OUT / f"styled_{args.mode}{'_' + args.tag if args.tag else ''}.mp4"
    if args.mode == "stream":
        result = transfer(clip, args.style, output)
    else:
        from multistyle.video.io import read_clip

        result = transfer(read_clip(clip), args.style)
        result.save(output)
    seconds = time.perf_counter() - start
    rss, peak = memory_mib()
    with av.open(str(output)) as written:
        stream = written.streams.video[0]
        shape = f"{stream.codec_context.width}x{stream.codec_context.height}"
        count = sum(1 for _ in written.decode(stream))
    lines = [
        f"# Video memory, {args.mode}: {args.frames} frames of Sintel ambush_3 looped (1024x436 in, {shape} out), "
        f"`{args.style}` network, blending 0.7",
        "",
        f"Machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), {torch.get_num_threads()} threads; "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}. RSS before the job: {start_rss:.0f} MiB. "
        f"Frames written: {count}. {seconds:.0f} s in all ({args.frames / seconds:.2f} frames/s).",
        "",
        "| frame | RSS (MiB) | peak RSS so far (MiB) | seconds |",
        "| ---: | ---: | ---: | ---: |",
        *[f"| {n} | {r:.0f} | {p:.0f} | {s:.0f} |" for n, r, p, s in samples],
        f"| end (after writing) | {rss:.0f} | {peak:.0f} | {seconds:.0f} |",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    results = ROOT / "benchmarks" / "results"
    (results / f"video_memory_{args.mode}{'_' + args.tag if args.tag else ''}.md").write_text(table)


if __name__ == "__main__":
    main()
