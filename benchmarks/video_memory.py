"""Peak memory of a long video job: streamed (decode -> stylise -> blend -> store, frame by frame, issue 38) against
every frame in memory (read_clip, outputs kept to the end: the pipeline before issue 38, and the API without an output).

The clip: Sintel ambush_3 (41 frames, 1024x436) played forwards and backwards until it is --frames long, at its own
size or --resolution WxH (cropped to that aspect, then scaled), with --audio its sound track looped to the same length,
written once as H.264 (+ AAC) into out/video_memory/. The job: the shipped `wave` network (or --style), blending
--temporal, --size px on the long side (0: the command's default). The process's resident memory (VmRSS) and its peak so
far (VmHWM) are sampled every --every frames, from inside the stylisation; the output's frames and the lengths of its
video and audio tracks are counted afterwards.
Usage: python benchmarks/video_memory.py --mode stream|memory [--frames 300] [--resolution 1920x1080] [--audio]
    [--size 640] [--every 50] [--style wave] [--temporal 0.7] [--tag NAME]
Prints a markdown table and writes benchmarks/results/video_memory_MODE[_TAG].md. Run it against the code before
issue 38 with PYTHONPATH pointing at that tree and --mode memory (the only mode it had). The 5-minute 1080p run:
--frames 7200 --resolution 1920x1080 --audio --size 0 --every 100.
"""
import argparse
import os
import time
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "video" / "sintel_ambush_3.mp4"
SOUND = DATA.with_name("sintel_ambush_3_audio.mp4")
OUT = ROOT / "out" / "video_memory"


def memory_mib() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def scaled(frame: np.ndarray, resolution: tuple[int, int] | None) -> np.ndarray:
    """The frame cropped about its centre to the resolution's aspect, then resized to it (bicubic)."""
    if resolution is None:
        return frame
    width, height = resolution
    h, w = frame.shape[:2]
    crop_w, crop_h = min(w, round(h * width / height)), min(h, round(w * height / width))
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    image = Image.fromarray(frame[top : top + crop_h, left : left + crop_w])
    return np.asarray(image.resize((width, height), Image.Resampling.BICUBIC))


def looped_sound(seconds: float) -> tuple[np.ndarray, int]:
    """The clip's sound track (channels, samples) float32, repeated until it lasts `seconds`, and its sample rate."""
    with av.open(str(SOUND)) as source:
        stream = source.streams.audio[0]
        chunks = [f.to_ndarray() for f in source.decode(stream)]  # fltp: (channels, samples) each
        rate = stream.codec_context.sample_rate
    sound = np.concatenate(chunks, axis=1).astype(np.float32)
    total = round(seconds * rate)
    return np.tile(sound, (1, -(-total // sound.shape[1])))[:, :total], rate


def make_clip(frames: int, resolution: tuple[int, int] | None, audio: bool) -> Path:
    size = f"_{resolution[0]}x{resolution[1]}" if resolution else ""
    path = OUT / f"ambush_loop_{frames}{size}{'_audio' if audio else ''}.mp4"
    if path.is_file():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    with av.open(str(DATA)) as source:
        loop = [scaled(f.to_ndarray(format="rgb24"), resolution) for f in source.decode(source.streams.video[0])]
    order = loop + loop[-2:0:-1]  # forwards, then backwards: no jump where it repeats
    tmp = path.with_name(".making.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=24, options={"preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = loop[0].shape[1], loop[0].shape[0], "yuv420p"
        if audio:
            sound, rate = looped_sound(frames / 24)
            sound_stream = out.add_stream("aac", rate=rate, layout="stereo" if sound.shape[0] == 2 else "mono")
            for start in range(0, sound.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(sound[:, start : start + 1024]), format="fltp",
                                                   layout=sound_stream.layout.name)
                chunk.sample_rate, chunk.pts = rate, start
                for packet in sound_stream.encode(chunk):
                    out.mux(packet)
            for packet in sound_stream.encode():
                out.mux(packet)
        for i in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(order[i % len(order)], format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def tracks(path: Path) -> tuple[str, int, float, float | None]:
    """(WxH, video frames, video seconds, audio seconds or None) of an mp4, the frames and samples counted by decoding."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = samples = 0
        for frame in container.decode(*[s for s in (video, audio) if s is not None]):
            if isinstance(frame, av.AudioFrame):
                samples += frame.samples
            else:
                frames += 1
        shape = f"{video.codec_context.width}x{video.codec_context.height}"
        audio_seconds = samples / audio.codec_context.sample_rate if audio is not None else None
        return shape, frames, frames / float(video.average_rate), audio_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("stream", "memory"), required=True)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--resolution", help="the clip's WxH, e.g. 1920x1080 (default: Sintel's 1024x436)")
    parser.add_argument("--audio", action="store_true", help="give the clip Sintel's sound track, looped")
    parser.add_argument("--size", type=int, default=640, help="output long side (640: 640x272 from Sintel's 1024x436; "
                        "0: the command's default, the input's size shrunk to a 512-px long side)")
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--style", default="wave")
    parser.add_argument("--temporal", type=float, default=0.7, help="blending weight (0: frame by frame)")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    resolution = tuple(int(v) for v in args.resolution.lower().split("x")) if args.resolution else None
    clip = make_clip(args.frames, resolution, args.audio)
    with open("/proc/self/clear_refs", "w") as f:  # the peak (VmHWM) from here on, not making the clip's
        f.write("5")
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
    transfer = stylize.VideoTransfer(method="fast", temporal=args.temporal, size=args.size or None)
    output = OUT / f"styled_{args.mode}{'_' + args.tag if args.tag else ''}.mp4"
    if args.mode == "stream":
        result = transfer(clip, args.style, output)
    else:
        from multistyle.video.io import read_clip

        result = transfer(read_clip(clip), args.style)
        result.save(output)
    seconds = time.perf_counter() - start
    rss, peak = memory_mib()
    source_shape, frames_in, video_in, audio_in = tracks(clip)
    shape, count, video_out, audio_out = tracks(output)
    lengths = (f"Input: {frames_in} frames, video {video_in:.2f} s, audio {'none' if audio_in is None else f'{audio_in:.2f} s'}. "
               f"Output: {count} frames, video {video_out:.2f} s, audio {'none' if audio_out is None else f'{audio_out:.2f} s'}.")
    after_model = samples[0][1] if samples else start_rss
    lines = [
        f"# Video memory, {args.mode}: {args.frames} frames of Sintel ambush_3 looped ({source_shape} in, {shape} out), "
        f"`{args.style}` network, blending {args.temporal:g}",
        "",
        f"Machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), {torch.get_num_threads()} threads; "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}. RSS before the job: {start_rss:.0f} MiB. "
        f"Frames written: {count}. {seconds:.0f} s in all ({args.frames / seconds:.2f} frames/s). {lengths} "
        f"Peak RSS {peak:.0f} MiB: {peak - after_model:.0f} MiB above the first frame's (the model loaded), "
        f"{peak - start_rss:.0f} above the RSS before the job.",
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
