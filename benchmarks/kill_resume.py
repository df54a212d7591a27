"""Kill a training run at a random moment (SIGTERM or SIGKILL), resume it, and check that it ends bit-identical
to an uninterrupted run: AdaIN decoder training and the text autoencoder, on tiny inputs.

Usage: python benchmarks/kill_resume.py [--trials 5] [--out DIR]   (about 10 minutes on 2 CPU cores)
Writes benchmarks/results/kill_resume.md.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from multistyle.core.checkpoint import load_training_state

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def adain_job(work: Path, out: Path, resume: bool) -> list[str]:
    images = work / "images"
    return [sys.executable, "-m", "multistyle", "image", "train-adain", "--out", str(out), "--quiet",
            *(["--resume"] if resume else ["--content-dir", str(images), "--style-dir", str(images), "--set", "holdout_contents=[]",
                                           "--set", "holdout_styles=[]", "--crop", "64", "--batch-size", "2",
                                           "--iterations", "40", "--checkpoint-every", "3", "--workers", "0", "--device", "cpu",
                                           "--set", "resize_short=72", "--set", "min_short=64", "--set", "log_every=1"])]


def text_job(work: Path, out: Path, resume: bool) -> list[str]:
    return [sys.executable, "-m", "multistyle", "text", "train", "--data", str(work / "toy"), "--out", str(out), "--quiet",
            *(["--resume"] if resume else ["--epochs", "3", "--checkpoint-every", "3", "--device", "cpu", "--set", "dim_z=32",
                                           "--set", "dim_y=16", "--set", "dim_emb=16", "--set", "n_filters=8", "--set", "batch_size=16"])]


def prepare(work: Path) -> None:
    from skimage import data

    (work / "images").mkdir(parents=True)
    for name, array in {"a": data.chelsea(), "b": data.coffee(), "c": data.astronaut(), "d": data.immunohistochemistry()}.items():
        img = Image.fromarray(array)
        img.thumbnail((96, 96))
        img.save(work / "images" / f"{name}.png")
    subprocess.run([sys.executable, "-m", "multistyle", "text", "toy-corpus", "-o", str(work / "toy")], check=True, env=ENV, capture_output=True)


def final_state(out: Path) -> dict[str, torch.Tensor]:
    states, _ = load_training_state(out / "checkpoint")
    flat = {}
    for part, state in states.items():
        if part in ("decoder", "model", "discriminators"):
            flat.update({f"{part}.{k}": v for k, v in state.items()})
    return flat


def run_killed(job, work: Path, out: Path, signum: int, rng: random.Random) -> tuple[bool, float]:
    """Start, kill after a random delay, resume until done; (finished identical?, seconds before the kill)."""
    proc = subprocess.Popen(job(work, out, False), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    delay = rng.uniform(4, 12)
    time.sleep(delay)
    if proc.poll() is None:
        os.killpg(proc.pid, signum)
    proc.wait()
    resumed = (out / "checkpoint" / "state.safetensors").is_file()
    done = subprocess.run(job(work, out, resumed), env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return True, delay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill_resume_"))
    prepare(work)
    rows = []
    for name, job in (("AdaIN decoder", adain_job), ("text autoencoder", text_job)):
        straight = work / f"{job.__name__}_straight"
        subprocess.run(job(work, straight, False), env=ENV, check=True, capture_output=True)
        reference = final_state(straight)
        for signum in (signal.SIGTERM, signal.SIGKILL):
            identical = 0
            for trial in range(args.trials):
                out = work / f"{job.__name__}_{signum.name}_{trial}"
                _, delay = run_killed(job, work, out, signum, rng)
                state = final_state(out)
                same = state.keys() == reference.keys() and all(torch.equal(state[k], reference[k]) for k in reference)
                identical += same
                print(f"{name} {signum.name} trial {trial + 1}: killed after {delay:.1f} s, identical: {same}", flush=True)
            rows.append((name, signum.name, identical, args.trials))
    shutil.rmtree(work)
    lines = ["# Kill and resume: bit-identical to an uninterrupted run", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores; torch {torch.__version__}. Each trial starts a "
             "tiny run, kills the whole job after a random 4-12 s, resumes it to the end, and compares every weight with an "
             "uninterrupted run's.", "", "| trainer | signal | identical runs |", "| --- | --- | ---: |",
             *[f"| {n} | {s} | {i} / {t} |" for n, s, i, t in rows]]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / "kill_resume.md").write_text(table)


if __name__ == "__main__":
    main()
