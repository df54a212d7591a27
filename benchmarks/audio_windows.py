"""Audio of real length in windows (issue 38 item 4): is a seam audible where two windows are crossfaded?

A content clip made by looping ../shared/data/audio/imperial.mp3 to --seconds (or, with --song, the ten other
clips one after another, looped: a "song" whose material changes every 10 s), restyled by usa.mp3 (--extractor,
default the random one, and its defaults) in windows of --window seconds overlapping by --overlap. Spectral flux per STFT frame of the
output (the mean rise of the magnitude spectrum since the frame before, on what is heard: the waveform's own STFT):
the largest flux inside each crossfade against the clip's 95th percentile elsewhere. Also seconds per second of audio
and the process's memory: its peak, and its resident size sampled every second during the transfer (flat means the
last window needs no more than the first).
Usage: python benchmarks/audio_windows.py [--seconds 40] [--window 10] [--overlap 1] [--song] [--extractor auditory]
       [--filters N] [--name audio_windows]
Writes benchmarks/results/NAME.md and out/audio_windows/NAME.wav.
"""
import argparse
import os
import threading
import time
from pathlib import Path

import torch

from multistyle.audio.config import GrinsteinConfig
from multistyle.audio.io import load_signal
from multistyle.audio.transfer import transfer

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "data" / "audio"


def status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field + ":"))


def peak_mib() -> float:
    return status_mib("VmHWM")


class RssSampler(threading.Thread):
    """The process's resident size (MiB) once a second, with the time since start."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()
        self.start_time = time.perf_counter()

    def run(self) -> None:
        while not self.done.wait(1.0):
            self.samples.append((time.perf_counter() - self.start_time, status_mib("VmRSS")))


SONG = ("imperial", "russia", "eminem", "fire", "gettysburg", "nwa", "lemons", "valkyries", "spongebob", "futurama")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--overlap", type=float, default=1)
    parser.add_argument("--song", action="store_true", help="the ten other clips in turn instead of imperial alone")
    parser.add_argument("--extractor", default="random")
    parser.add_argument("--filters", type=int, default=None, help="the random extractor's filters (default: the config's)")
    parser.add_argument("--name", default="audio_windows")
    args = parser.parse_args()
    settings = {"random_filters": args.filters} if args.filters else {}
    config = GrinsteinConfig(window_seconds=args.window, window_overlap=args.overlap, extractor=args.extractor, **settings)
    rate, hop = config.sample_rate, config.hop
    clips = SONG if args.song else ("imperial",)
    loop = torch.cat([load_signal(AUDIO / f"{clip}.mp3", rate) for clip in clips])
    length = round(args.seconds * rate)
    content = loop.repeat(length // loop.numel() + 1)[:length]
    style = load_signal(AUDIO / "usa.mp3", rate)
    before = peak_mib()
    sampler = RssSampler()
    sampler.start()
    start = time.perf_counter()
    result = transfer(content, style, config)
    seconds = time.perf_counter() - start
    sampler.done.set()
    rss = [mib for _, mib in sampler.samples]
    tenth = max(1, len(rss) // 10)
    first, last = max(rss[:tenth]), max(rss[-tenth:])
    magnitude = config.stft.forward(result.audio).abs()
    flux = (magnitude[:, 1:] - magnitude[:, :-1]).clamp_min(0).mean(0)  # flux[t]: frame t+1 against frame t
    frames = result.log_spectrogram.shape[-1]
    window, overlap = round(args.window * rate / hop), round(args.overlap * rate / hop)
    starts = list(range(0, frames - window, window - overlap)) + [frames - window]
    # the frames each window shares with the one before: from its start to where the previous window ends
    spans = [(starts[i], min(starts[i - 1] + window, frames - 1)) for i in range(1, len(starts))]
    seam = torch.zeros_like(flux, dtype=torch.bool)
    for b, e in spans:
        seam[max(0, b - 1): e] = True
    elsewhere = flux[~seam].quantile(0.95)

    def spans_elsewhere(length: int) -> torch.Tensor:
        """The largest flux in every run of `length` frames outside the crossfades: what a seam's maximum is fairly
        compared with (the maximum of many frames exceeds their 95th percentile by itself)."""
        maxima = flux.unfold(0, length, 1).max(-1).values
        clear = ~seam.unfold(0, length, 1).any(-1)
        return maxima[clear]

    rows = []
    for b, e in spans:
        inside = float(flux[max(0, b - 1): e].max())
        runs = spans_elsewhere(e - max(0, b - 1))
        fair = float(runs.quantile(0.95)) if runs.numel() else float("nan")  # none that long outside the crossfades
        rows.append((b * hop / rate, e * hop / rate, inside, fair))
    lines = [
        f"# Audio in windows: {args.seconds:g} s ({' + '.join(clips)} looped) restyled by usa.mp3, {args.extractor} extractor"
        f"{f' ({config.random_filters} filters)' if args.extractor == 'random' else ''}, "
        f"{config.evaluations} evaluations a window, windows of {args.window:g} s overlapping by {args.overlap:g} s",
        "",
        f"Machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), {torch.get_num_threads()} threads; "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}. {seconds:.0f} s for {args.seconds:g} s of audio "
        f"({seconds / args.seconds:.2f} s a second); peak RSS {peak_mib():.0f} MiB ({before:.0f} before the transfer); "
        f"style loss -{100 * result.style_reduction:.1f} %. Resident size during the transfer, sampled each second: "
        f"{min(rss):.0f}-{max(rss):.0f} MiB; largest in the first tenth of the run {first:.0f} MiB, in the last tenth {last:.0f} MiB.",
        "",
        f"Spectral flux of the output, 95th percentile outside the crossfades: {float(elsewhere):.4f}; median {float(flux[~seam].median()):.4f}.",
        "",
        "| crossfade (s) | largest flux inside | / 95th percentile of frames elsewhere | 95th percentile of the largest "
        "flux in as long a run elsewhere | seam / that |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {b:.2f}-{e:.2f} | {f:.4f} | {f / float(elsewhere):.2f} | {g:.4f} | {f / g:.2f} |" for b, e, f, g in rows],
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / f"{args.name}.md").write_text(table)
    from multistyle.audio.io import save_wav

    (ROOT / "out" / "audio_windows").mkdir(parents=True, exist_ok=True)
    save_wav(result.audio, ROOT / "out" / "audio_windows" / f"{args.name}.wav", rate)


if __name__ == "__main__":
    main()
