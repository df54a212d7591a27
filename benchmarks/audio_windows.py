"""Audio of real length in windows (issue 38 item 4): is a seam audible where two windows are crossfaded?

A content clip made by looping ../shared/data/audio/imperial.mp3 to --seconds, restyled by usa.mp3 (random
extractor, the defaults) in windows of --window seconds overlapping by --overlap. Spectral flux per STFT frame of the
output (the mean rise of the magnitude spectrum since the frame before, on what is heard: the waveform's own STFT):
the largest flux inside each crossfade against the clip's 95th percentile elsewhere. Also seconds per second of audio
and the process's peak memory.
Usage: python benchmarks/audio_windows.py [--seconds 40] [--window 10] [--overlap 1]
Writes benchmarks/results/audio_windows.md.
"""
import argparse
import os
import time
from pathlib import Path

import torch

from multistyle.audio.config import GrinsteinConfig
from multistyle.audio.io import load_signal
from multistyle.audio.transfer import transfer

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "data" / "audio"


def peak_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--overlap", type=float, default=1)
    args = parser.parse_args()
    config = GrinsteinConfig(window_seconds=args.window, window_overlap=args.overlap)
    rate, hop = config.sample_rate, config.hop
    loop = load_signal(AUDIO / "imperial.mp3", rate)
    length = round(args.seconds * rate)
    content = loop.repeat(length // loop.numel() + 1)[:length]
    style = load_signal(AUDIO / "usa.mp3", rate)
    before = peak_mib()
    start = time.perf_counter()
    result = transfer(content, style, config)
    seconds = time.perf_counter() - start
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
        f"# Audio in windows: {args.seconds:g} s (imperial.mp3 looped) restyled by usa.mp3, random extractor, "
        f"{config.evaluations} evaluations a window, windows of {args.window:g} s overlapping by {args.overlap:g} s",
        "",
        f"Machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}), {torch.get_num_threads()} threads; "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}. {seconds:.0f} s for {args.seconds:g} s of audio "
        f"({seconds / args.seconds:.2f} s a second); peak RSS {peak_mib():.0f} MiB ({before:.0f} before the transfer); "
        f"style loss -{100 * result.style_reduction:.1f} %.",
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
    (ROOT / "benchmarks" / "results" / "audio_windows.md").write_text(table)
    from multistyle.audio.io import save_wav

    (ROOT / "out" / "audio_windows").mkdir(parents=True, exist_ok=True)
    save_wav(result.audio, ROOT / "out" / "audio_windows" / "windowed.wav", rate)


if __name__ == "__main__":
    main()
