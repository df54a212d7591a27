"""Audio style transfer quality and speed: ours (each extractor) vs Ulyanov & Lebedev's published result.

Pair: content imperial.mp3 x style usa.mp3 (10 s clips); the peer is their output for the same pair.
Every output is scored by measures that no extractor optimises, on librosa log-mel spectrograms
(64 bands, dB, 80 dB range) at 22.05 kHz of the clip scaled to a common RMS (peak normalisation
sets each clip's loudness arbitrarily, and loudness is not style):
  style distance = RMS difference (dB) between result and style clip of the mel band means, of the
                   band standard deviations, and of the modulation spectra (share of each band's dB
                   trajectory power in octave bins 0.5-16 Hz, averaged over groups of 8 bands); the
                   three added. The style clip's first half against the whole clip gives the floor.
  content        = Pearson correlation of the result's chroma, and of its onset-strength envelope,
                   with the content clip's
Each of our runs is its own `multistyle audio transfer` process (wall time includes start-up and
decoding); per-stage times and the Griffin-Lim spectral convergence come from its JSON report.
Usage: python benchmarks/audio_quality.py [--extractors random,auditory,vgg]   (about 4 minutes on 2 cores)
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import torch

from multistyle.audio.config import DEFAULT_STEPS
from multistyle.audio.io import load_audio
from multistyle.audio.plot import save_spectrogram_panel
from multistyle.audio.spectral import STFT, log_magnitude
from multistyle.core.checkpoint import atomic_write_bytes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "audio"
RESULTS = ROOT / "benchmarks" / "results"
FIGURE = ROOT / "docs" / "audio_imperial_usa.png"
RATE = 22050
N_MELS = 64
MOD_EDGES_HZ = 0.5 * 2.0 ** np.arange(6)  # octave bins, 0.5 to 16 Hz
BAND_GROUP = 8  # mel bands averaged per modulation spectrum: single bands' spectra are too noisy to compare
REFERENCE_RMS = 0.1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def log_mel_db(signal: np.ndarray) -> np.ndarray:
    signal = signal * (REFERENCE_RMS / np.sqrt(np.mean(signal**2)))
    mel = librosa.feature.melspectrogram(y=signal, sr=RATE, n_fft=2048, hop_length=512, n_mels=N_MELS)
    return librosa.power_to_db(mel, ref=1.0, top_db=80.0)


def modulation_spectrum_db(mel_db: np.ndarray) -> np.ndarray:
    """(band groups, bins): the share of each band's dB-trajectory power per octave modulation bin, in dB."""
    trajectories = mel_db - mel_db.mean(1, keepdims=True)
    power = np.abs(np.fft.rfft(trajectories, axis=1)) ** 2
    freqs = np.fft.rfftfreq(trajectories.shape[1], 512 / RATE)
    bins = np.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(1) for lo, hi in zip(MOD_EDGES_HZ[:-1], MOD_EDGES_HZ[1:])], 1)
    shares = bins / power[:, 1:].sum(1, keepdims=True)
    return 10 * np.log10(shares.reshape(N_MELS // BAND_GROUP, BAND_GROUP, -1).mean(1) + 1e-10)


def rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def style_terms(result: np.ndarray, style: np.ndarray) -> dict[str, float]:
    r, s = log_mel_db(result), log_mel_db(style)
    terms = {
        "band means": rms(r.mean(1), s.mean(1)),
        "band stds": rms(r.std(1), s.std(1)),
        "modulation": rms(modulation_spectrum_db(r), modulation_spectrum_db(s)),
    }
    return {"style distance": sum(terms.values()), **terms}


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(a.shape[-1], b.shape[-1])
    return float(np.corrcoef(a[..., :n].ravel(), b[..., :n].ravel())[0, 1])


def content_terms(result: np.ndarray, content: np.ndarray) -> dict[str, float]:
    chroma = correlation(librosa.feature.chroma_stft(y=result, sr=RATE), librosa.feature.chroma_stft(y=content, sr=RATE))
    onset = correlation(librosa.onset.onset_strength(y=result, sr=RATE), librosa.onset.onset_strength(y=content, sr=RATE))
    return {"chroma corr": chroma, "onset corr": onset}


def target_verdict(ours: dict[str, float], peer: dict[str, float]) -> str:
    """The issue's target: a lower style distance than the peer's at equal or better content measures."""
    met = ours["style distance"] < peer["style distance"] and all(ours[k] >= peer[k] for k in ("chroma corr", "onset corr"))
    return (f"Target (default beats the peer's style distance at equal or better content preservation): "
            f"{'met' if met else 'NOT met'} ({ours['style distance']:.2f} vs {peer['style distance']:.2f} dB; "
            f"chroma {ours['chroma corr']:.3f} vs {peer['chroma corr']:.3f}; onset {ours['onset corr']:.3f} vs {peer['onset corr']:.3f}).")


def run_ours(content: Path, style: Path, out: Path, args: list[str]) -> dict:
    cmd = [sys.executable, "-m", "multistyle", "audio", "transfer", str(content), str(style), "-o", str(out), "--quiet", *args]
    print(f"running {shlex.join(cmd[2:])} ...", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {shlex.join(cmd)}\n{proc.stderr[-2000:]}")
    report = json.loads(out.with_suffix(".json").read_text())
    report["wall_s"] = wall
    return report


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extractors", default="random,auditory,vgg", help="ours to run, the first is the default")
    parser.add_argument("--name", default="audio_quality")
    args = parser.parse_args()
    content_path, style_path = DATA / "imperial.mp3", DATA / "usa.mp3"
    peer_path = DATA / "peers" / "ulyanov_imperial_content_usa_style.wav"
    for path in (content_path, style_path, peer_path):
        if not path.is_file():
            sys.exit(f"benchmark data missing: {path} (needs ../shared/data)")

    load_before = os.getloadavg()[0]  # the machine may be shared: timings depend on it
    tmp = Path(tempfile.mkdtemp(prefix="audio_bench_"))
    runs: dict[str, tuple[list[str], Path]] = {}
    extractors = args.extractors.split(",")
    for extractor in extractors:
        label = f"ours, {extractor}, {DEFAULT_STEPS[extractor]} steps" + (" (default)" if extractor == "random" else "")
        runs[label] = (["--extractor", extractor], tmp / f"ours_{extractor}.wav")
    if "random" in extractors:  # the same optimised spectrogram, Griffin-Lim started from a random phase
        runs["ours, random, Griffin-Lim from random phase"] = (
            ["--extractor", "random", "--griffin-lim-phase", "random"], tmp / "ours_random_phase.wav")
    reports = {name: run_ours(content_path, style_path, out, flags) for name, (flags, out) in runs.items()}

    content = load_audio(content_path, RATE).numpy()
    style = load_audio(style_path, RATE).numpy()
    outputs = {"content clip itself (reference)": content, "style clip, first half (floor)": style[: len(style) // 2],
               "Ulyanov & Lebedev (published result)": load_audio(peer_path, RATE).numpy()}
    outputs.update({name: load_audio(out, RATE).numpy() for name, (_, out) in runs.items()})

    header = ["method", "style distance ↓ (dB)", "band means", "band stds", "modulation", "chroma corr ↑", "onset corr ↑",
              "wall s", "features s", "optimisation s", "Griffin-Lim s", "GL spectral conv. dB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    scores_by_name = {}
    for name, signal in outputs.items():
        scores = scores_by_name[name] = {**style_terms(signal, style), **content_terms(signal, content)}
        report = reports.get(name, {})
        timings = report.get("timings_s", {})
        cells = [name, *(fmt(scores[k]) for k in ("style distance", "band means", "band stds", "modulation")),
                 fmt(scores["chroma corr"], 3), fmt(scores["onset corr"], 3), fmt(report.get("wall_s"), 1),
                 *(fmt(timings.get(k), 1) for k in ("features", "optimisation", "griffin_lim")),
                 fmt(report.get("griffin_lim_spectral_convergence_db"), 1)]
        lines.append("| " + " | ".join(cells) + " |")
    default = reports[next(iter(runs))]
    machine = (f"{cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
               f"load average {load_before:.1f} before the runs; default config: {default['iterations']} L-BFGS evaluations, "
               f"n_fft {default['config']['n_fft']}, hop {default['config']['hop']}, "
               f"{default['config']['griffin_lim_iters']} Griffin-Lim iterations")
    table = "\n".join(lines)
    verdict = target_verdict(scores_by_name[next(iter(runs))], scores_by_name["Ulyanov & Lebedev (published result)"])
    notes = f"Machine: {machine}. Content clip {len(content) / RATE:.2f} s at {RATE} Hz.\n\n{verdict}"
    document = f"# Audio style transfer: imperial (content) x usa (style)\n\n{table}\n\n{notes}\n"
    print(table)
    print(f"\n{notes}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(RESULTS / f"{args.name}.md", document.encode())

    stft = STFT()
    panels = [("content: imperial", content), ("style: usa", style), (next(iter(runs)), outputs[next(iter(runs))]),
              ("Ulyanov & Lebedev", outputs["Ulyanov & Lebedev (published result)"])]
    save_spectrogram_panel([(title, log_magnitude(stft.forward(torch.from_numpy(x)))) for title, x in panels], FIGURE, RATE, stft.hop, dpi=70)
    print(f"wrote {RESULTS / (args.name + '.md')} and {FIGURE}")


if __name__ == "__main__":
    main()
