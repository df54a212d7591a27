"""The bad-input table: every row must end with exit status 2, one `error:` line, no traceback, no new
file, and every input byte-for-byte unchanged."""
import hashlib
import json
import os

import numpy as np
import pytest
import soundfile
import torch
from PIL import Image

from multistyle.core.checkpoint import save_tensors, save_training_state
from multistyle.image.adain import Decoder


@pytest.fixture(scope="module")
def ws(tmp_path_factory, sample_images):
    """A workspace of small inputs, shared by every row."""
    root = tmp_path_factory.mktemp("bad_inputs")
    (root / "imgs").mkdir()
    for name in ("content", "style", "style2"):
        (root / f"{name}.png").write_bytes(sample_images[name].read_bytes())
        (root / "imgs" / f"{name}.png").write_bytes(sample_images[name].read_bytes())
    rate = 8000
    t = np.arange(rate) / rate
    soundfile.write(root / "tone.wav", np.sin(2 * np.pi * 440 * t) * 0.5, rate)
    soundfile.write(root / "noise.wav", np.random.default_rng(0).standard_normal(rate) * 0.1, rate)
    soundfile.write(root / "long.wav", np.full(11 * 60 * 4000, 0.1), 4000, subtype="PCM_U8")  # 11 minutes, 2.6 MB
    soundfile.write(root / "huge.wav", np.full(31 * 60 * 4000, 0.1), 4000, subtype="PCM_U8")  # 31 minutes, 7.4 MB
    (root / "empty.mp3").write_bytes(b"")
    (root / "reviews.txt").write_text("the food was cold .\ngreat staff\n")
    Image.new("1", (20000, 20000)).save(root / "bomb.png")  # 400 megapixels, a few kB on disk
    Image.new("RGB", (300, 1), (200, 100, 50)).save(root / "thin.png")
    (root / "a_file").write_text("not a folder")
    (root / "o_level0_00001.png").write_bytes(sample_images["style"].read_bytes())  # named like a --save-every snapshot
    (root / "vo.json").write_bytes(sample_images["style"].read_bytes())  # a style named like video's report
    (root / "folder.png").mkdir()
    data = root / "yelp"
    data.mkdir()
    for split in ("train", "dev", "test"):
        for label in (0, 1):
            (data / f"sentiment.{split}.{label}").write_text("the food was cold .\n")
    finished = root / "finished_run"
    save_training_state(finished / "checkpoint", {}, {"iteration": 5})
    (finished / "config.json").write_text("{}")
    torch.manual_seed(0)
    nan_weights = {k: torch.full_like(v, float("nan")) for k, v in Decoder().state_dict().items()}
    save_tensors(root / "nan_decoder.safetensors", nan_weights)
    (root / "big.toml").write_text('size = "big"\n')
    (root / "nan_lr.toml").write_text("lr = nan\n")
    return root


def snapshot(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


C, S, S2 = "{ws}/content.png", "{ws}/style.png", "{ws}/style2.png"
GATYS = ["image", "gatys", C, S, "--size", "32", "--steps", "1", "--quiet"]
ADAIN = ["image", "adain", C, S, "--size", "32"]
AUDIO = ["audio", "transfer", "{ws}/tone.wav", "{ws}/noise.wav", "--steps", "1", "--n-fft", "256", "--hop", "64",
         "--sample-rate", "8000", "--quiet"]
TRAIN = ["image", "train-adain", "--content-dir", "{ws}/imgs", "--style-dir", "{ws}/imgs", "--crop", "32", "--workers", "0", "--quiet"]

ROWS = {
    # 1. inputs overwritten
    "gatys -o content": (GATYS + ["-o", C], "is also an input"),
    "adain -o style": (ADAIN + ["-o", S], "is also an input"),
    "audio transfer -o content": (AUDIO + ["-o", "{ws}/tone.wav"], "is also an input"),
    "audio texture -o style": (["audio", "texture", "{ws}/noise.wav", "-o", "{ws}/noise.wav", "--quiet"], "is also an input"),
    "text transfer --output = --input": (["text", "transfer", "--to", "flip", "--input", "{ws}/reviews.txt", "--output",
                                          "{ws}/reviews.txt"], "is also an input"),
    "text evaluate --save-outputs into the data": (["text", "evaluate", "--data", "{ws}/yelp", "--evaluator", "{ws}/none",
                                                    "--save-outputs", "{ws}/yelp/sentiment.test"], "which this job reads"),
    "train-adain over a finished run": (TRAIN + ["--out", "{ws}/finished_run"], "already holds a training run"),
    "train-adain --resume with another crop": (["image", "train-adain", "--out", "{ws}/finished_run", "--resume", "--crop", "64"],
                                               "a resumed run cannot change crop"),
    # 2. wrong results
    "adain blend nan": (ADAIN + [S2, "-o", "{ws}/o.png", "--style-blend", "nan,nan"], "finite"),
    "adain decoder with NaN weights": (ADAIN + ["-o", "{ws}/o.png", "--decoder", "{ws}/nan_decoder.safetensors"], "NaN"),
    "text strength inf": (["text", "transfer", "--to", "positive", "--strength", "inf", "fine"], "finite"),
    "train-adain 0 iterations": (TRAIN + ["--out", "{ws}/run", "--iterations", "0"], "iterations must be at least 1"),
    "gatys negative style weight": (GATYS + ["-o", "{ws}/o.png", "--style-weight", "-1"], "non-negative"),
    "gatys negative tv weight": (GATYS + ["-o", "{ws}/o.png", "--tv-weight", "-1"], "non-negative"),
    # 3. former tracebacks
    "-o is a folder": (GATYS + ["-o", "{ws}/folder.png"], "is a folder"),
    "-o under a file": (ADAIN + ["-o", "{ws}/a_file/o.png"], "cannot create its folder"),
    "--save-every snapshot over an input": (["image", "gatys", C, "{ws}/o_level0_00001.png", "--size", "32", "--steps", "1",
                                             "--quiet", "--save-every", "1", "-o", "{ws}/o.png"], "would write a snapshot over"),
    "texture of 200000 px": (["image", "texture", S, "-o", "{ws}/o.png", "--size", "200000"], "use a smaller --size"),
    "grid 1000000 px tall": (["image", "grid", C, "-o", "{ws}/o.png", "--height", "1000000"], "use a smaller --height"),
    "gatys quality 0": (GATYS + ["-o", "{ws}/o.jpg", "--quality", "0"], "--quality must be a whole number from 1 to 100"),
    "gatys quality 101": (GATYS + ["-o", "{ws}/o.jpg", "--quality", "101"], "--quality must be"),
    "adain quality 1000": (ADAIN + ["-o", "{ws}/o.jpg", "--quality", "1000"], "--quality must be"),
    "gatys negative patience": (GATYS + ["-o", "{ws}/o.png", "--patience", "-5"], "--patience must be 0"),
    "output name too long": (ADAIN + ["-o", "{ws}/" + "x" * 300 + ".png"], "File name too long"),
    "video report over the style": (["video", "{ws}/imgs", "-o", "{ws}/vo.mp4", "--style", "{ws}/vo.json", "--quiet"], "is also an input"),
    "demo --out is a file": (["demo", "--out", "{ws}/a_file", "--quiet"], "the demo writes a folder"),
    "--out is a file": (TRAIN + ["--out", "{ws}/a_file"], "is a file"),
    "--out inside the training images": (TRAIN + ["--out", "{ws}/imgs/run"], "which this job reads"),
    "gatys inf style weight": (GATYS + ["-o", "{ws}/o.png", "--style-weight", "inf"], "finite"),
    "gatys blend inf": (GATYS + [S2, "-o", "{ws}/o.png", "--style-blend", "inf,1"], "finite"),
    "gatys 300x1 image": (["image", "gatys", "{ws}/thin.png", S, "-o", "{ws}/o.png", "--size", "32", "--steps", "1"], "short side"),
    "adain size 100000": (["image", "adain", C, S, "-o", "{ws}/o.png", "--size", "100000"], "GiB"),
    "audio n-fft 1000000": (AUDIO[:-5] + ["-o", "{ws}/o.wav", "--n-fft", "1000000"], "at most 65536"),
    "audio sample rate 10 MHz": (AUDIO[:-3] + ["-o", "{ws}/o.wav", "--sample-rate", "10000000"], "at most 192000"),
    "audio 31-minute clip": (["audio", "transfer", "{ws}/huge.wav", "{ws}/noise.wav", "-o", "{ws}/o.wav"], "minutes long"),
    "train-adain batch 0": (TRAIN + ["--out", "{ws}/run", "--batch-size", "0"], "batch-size must be at least 1"),
    "train-adain checkpoint-every 0": (TRAIN + ["--out", "{ws}/run", "--checkpoint-every", "0"], "checkpoint-every must be at least 1"),
    "train-adain workers -1": (TRAIN + ["--out", "{ws}/run", "--workers", "-1"], "workers must be at least 0"),
    "train-adain crop 0": (TRAIN + ["--out", "{ws}/run", "--crop", "0"], "crop must be at least 16"),
    "train-adain precision fp16": (TRAIN + ["--out", "{ws}/run", "--precision", "fp16"], "precision must be one of"),
    "config size big": (["image", "gatys", C, S, "-o", "{ws}/o.png", "--config", "{ws}/big.toml"], "size: expected a whole number"),
    "config lr nan": (GATYS + ["-o", "{ws}/o.png", "--config", "{ws}/nan_lr.toml"], "lr: expected a finite number"),
    "--config is a folder": (GATYS + ["-o", "{ws}/o.png", "--config", "{ws}"], "is a folder"),
    "unknown layer": (GATYS + ["-o", "{ws}/o.png", "--set", 'content_layers=["relu9_9"]', "--set", "content_layer_weights=[1]"],
                      "unknown VGG-19 layer relu9_9"),
    "gatys negative style scale": (GATYS + ["-o", "{ws}/o.png", "--style-scale", "-1"], "--style-scale must be between"),
    "gatys --set value a flag replaces": (GATYS + ["-o", "{ws}/o.png", "--set", "steps=abc"], "--set: steps: expected a whole number"),
    "gatys unknown style loss": (GATYS + ["-o", "{ws}/o.png", "--style-loss", "patches"], "--style-loss must be one of"),
    "gatys unknown style layer": (GATYS + ["-o", "{ws}/o.png", "--style-layers", "relu1_1,relu9_9"], "unknown VGG-19 layer relu9_9"),
    "texture size 0x0": (["image", "texture", S, "-o", "{ws}/o.png", "--size", "0x0"], "at least 16 pixels"),
    "decompression bomb": (["image", "adain", "{ws}/bomb.png", S, "-o", "{ws}/o.png"], "too large to decode"),
    # 4. hangs
    "train-fast missing style": (["image", "train-fast", "{ws}/nope.png", "--out", "{ws}/run", "--content-dir", "{ws}/imgs"],
                                  "nope.png: file not found"),
    "train-fast missing init weights": (["image", "train-fast", S, "--out", "{ws}/run", "--content-dir", "{ws}/imgs",
                                         "--init-weights", "{ws}/nope.safetensors"], "nope.safetensors: file not found"),
    "text select maybe": (["text", "transfer", "--select", "maybe", "fine"], "--select must be on or off"),
    "text beam 100000": (["text", "transfer", "--to", "positive", "--beam", "100000", "fine"], "--beam must be between 1 and 64"),
    # 5. unclear messages
    "blend 1.5,-0.5": (ADAIN + [S2, "-o", "{ws}/o.png", "--style-blend", "1.5,-0.5"], "non-negative"),
    "empty mp3": (["audio", "transfer", "{ws}/empty.mp3", "{ws}/noise.wav", "-o", "{ws}/o.wav"], "is empty"),
    "audio style weight nan": (AUDIO + ["-o", "{ws}/o.wav", "--style-weight", "nan"], "--style-weight: expected a finite number"),
    "texture of an 11-minute clip": (["audio", "texture", "{ws}/long.wav", "-o", "{ws}/o.wav", "--quiet"], "pass --seconds"),
}


@pytest.mark.parametrize("case", list(ROWS))
def test_bad_input_row(case, cli, ws):
    args, message = ROWS[case]
    before = snapshot(ws)
    code, out, err = cli(*(a.format(ws=ws) for a in args))
    assert code == 2, (case, code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    if message:
        assert message in err, err
    assert snapshot(ws) == before, "no new file, no input changed"


@pytest.mark.parametrize("model", ["cross-aligned", "style-transformer"])
def test_a_failed_training_leaves_no_empty_run_folder_but_keeps_one_it_did_not_make(cli, ws, tmp_path, model):
    out = tmp_path / "runs" / "first"
    code, _, err = cli("text", "train", "--model", model, "--data", ws, "--out", out)
    assert code == 2 and "sentiment.train" in err, err
    assert not (tmp_path / "runs").exists(), "the folders the command made for its output are gone again"
    mine = tmp_path / "mine"
    mine.mkdir()
    code, _, _ = cli("text", "train", "--model", model, "--data", ws, "--out", mine)
    assert code == 2 and mine.is_dir(), "a folder that was there before stays"


def test_sixteen_bit_greys_and_exif_orientation_load_as_seen(tmp_path):
    from multistyle.image.io import load_image

    ramp = (np.linspace(0, 65535, 64 * 32).reshape(32, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "grey16.png")  # mode I;16
    image = load_image(tmp_path / "grey16.png")
    assert 0.4 < float(image.mean()) < 0.6 and float(image.std()) > 0.2, "a 16-bit ramp, not a white page"
    photo = Image.new("RGB", (40, 20), (255, 0, 0))
    photo.paste((0, 0, 255), (0, 0, 20, 20))  # blue on the left
    exif = photo.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    photo.save(tmp_path / "portrait.jpg", exif=exif)
    upright = load_image(tmp_path / "portrait.jpg")
    assert upright.shape[-2:] == (40, 20), "portraits come out upright"
    assert float(upright[0, 2, :20].mean()) > 0.6, "the blue half is on top after the rotation"


def test_same_clip_as_content_and_style_is_a_result_not_a_crash(cli, ws, tmp_path):
    code, _, err = cli(*(a.format(ws=ws) for a in AUDIO[:3]), "{ws}/tone.wav".format(ws=ws), *AUDIO[4:], "-o", tmp_path / "same.wav")
    assert code == 0, err
    assert json.loads((tmp_path / "same.json").read_text())["style_loss_reduction"] == 0.0


DISK_FULL = r"""
import contextlib, io, json, resource, signal, sys
from multistyle.cli import _run
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, writes fail with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
for args in json.loads(sys.argv[2]):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = _run(args)
        except BaseException as e:
            code, err = -1, io.StringIO(f"{type(e).__name__}: {e}")
    print(json.dumps([code, err.getvalue()]), file=sys.__stdout__, flush=True)
"""


def test_a_full_disk_is_one_line_and_leaves_the_previous_output(ws, tmp_path, sample_images):
    """Issue 37: a file-size limit (as a full disk) while each writing command writes: one `error:` line, exit 2,
    the output from before intact and no temporary file left. One subprocess runs every command (one import)."""
    import subprocess
    import sys

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(1, 4):
        (frames / f"frame_{i:04d}.png").write_bytes(sample_images["content"].read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    previous = {name: f"previous {name}".encode() for name in ("a.png", "g.png", "w.wav", "v.mp4", "t.txt", "a.json")}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    commands = [
        ["image", "adain", str(sample_images["content"]), str(sample_images["style"]), "--size", "32", "-o", str(out / "a.png")],
        ["image", "gatys", str(sample_images["content"]), str(sample_images["style"]), "--size", "32", "--steps", "1",
         "--quiet", "-o", str(out / "g.png")],
        [a.format(ws=ws) for a in AUDIO] + ["-o", str(out / "w.wav")],
        ["video", str(frames), "-o", str(out / "v.mp4"), "--style", str(sample_images["style"]), "--size", "32", "--quiet"],
        ["video", str(frames), "-o", str(out / "frames"), "--style", str(sample_images["style"]), "--size", "32", "--quiet"],
        ["text", "transfer", "the food was cold .", "--output", str(out / "t.txt")],
        ["image", "fast", str(frames), "--style", "wave", "--size", "32", "-o", str(out / "batch")],  # a folder batch
        ["image", "texture", str(sample_images["style"]), "--size", "32", "--steps", "1", "--quiet", "-o", str(out / "x.png")],
        ["image", "grid", str(sample_images["content"]), str(sample_images["style"]), "--height", "32", "-o", str(out / "x.png")],
    ]
    import json

    before = snapshot(ws)
    run = subprocess.run([sys.executable, "-c", DISK_FULL, "12", json.dumps(commands)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("[")]
    assert len(results) == len(commands), run.stderr[-2000:]
    for args, (code, err) in zip(commands, results):
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (args[:2], code, err)
        assert "too large" in err or "No space" in err, err
    for name, data in previous.items():
        assert (out / name).read_bytes() == data, f"{name}: the previous output is intact"
    # video keeps its finished frames in .OUT.parts/ for --resume (multistyle/video/stream.py): work, not an output
    left = [p for p in out.rglob("*") if not any(part.endswith(".parts") for part in p.parts)]
    assert not [p for p in left if p.name.startswith(".") or p.name.endswith(".tmp")], "no temporary file left"
    assert not any((out / "frames").glob("*")) and not any((out / "batch").glob("*")), "no partial frames or batch outputs"
    assert snapshot(ws) == before


def test_printing_to_a_full_stdout_is_one_line():
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-m", "multistyle", "image", "styles"], stdout=full, stderr=subprocess.PIPE,
                             text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 2 and run.stderr == "error: No space left on device (writing the output)\n", run.stderr


def test_images_thinner_than_the_networks_stride_are_padded(one_thread):
    """Issue 37: a 2000x3 photo crashed AdaIN and the per-style networks (their deepest reflection padding had one row)."""
    from multistyle import AdaIN, FastStyle

    strip = np.full((3, 120, 3), 0.5, np.float32)
    assert FastStyle.from_pretrained(FastStyle.styles()[0])(strip, size=0).image.size == (120, 3)
    assert AdaIN.from_pretrained()(strip, np.full((32, 32, 3), 0.2, np.float32), size=0).image.size == (120, 3)


def test_a_full_disk_while_training_keeps_the_last_checkpoint(ws, cli, tmp_path, sample_images):
    """Issue 37: each trainer, resumed under a 20 kB file-size limit (its config fits, its checkpoint does not), stops
    with one `error:` line and exit 2; the checkpoint and model from before are intact and no temporary file is left.
    (safetensors' own file writer raised a SafetensorError, not an OSError, and the CLI printed its traceback.)"""
    import subprocess
    import sys

    tiny_fast = ["--crop", "32", "--set", "style_size=64", "--set", "min_short=32", "--set", "resize_short=48",
                 "--set", "batch_size=1", "--set", "channels=[8,16,16]", "--set", "blocks=1", "--set", "checkpoint_every=1",
                 "--set", "workers=0", "--set", "holdout_contents=[]"]
    runs = {
        "fast": (["image", "train-fast", f"{ws}/style.png", "--content-dir", f"{ws}/imgs", *tiny_fast, "--quiet"], "--iterations"),
        "adain": ([a.format(ws=ws) for a in TRAIN] + ["--checkpoint-every", "1"], "--iterations"),
        "text": (["text", "train", "--data", f"{ws}/yelp", "--checkpoint-every", "1", "--quiet"], "--max-steps"),
    }
    for name, (args, length) in runs.items():
        code, _, err = cli(*args, "--out", tmp_path / name, length, "2")
        assert code == 0, (name, err)
    before = snapshot(tmp_path)
    resumed = [[*args[:2], "--out", str(tmp_path / name), "--resume", length, "4", "--quiet"]
               + (["--data", f"{ws}/yelp"] if name == "text" else []) for name, (args, length) in runs.items()]
    run = subprocess.run([sys.executable, "-c", DISK_FULL, "20000", json.dumps(resumed)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("[")]
    assert len(results) == len(resumed), run.stderr[-2000:]
    for args, (code, err) in zip(resumed, results):
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (args[:2], code, err)
        assert "state.safetensors: cannot be written (File too large)" in err, err
    after = snapshot(tmp_path)
    changed = {path for path in before if after.get(path) != before[path]}
    assert changed <= {f"{name}/config.json" for name in runs}, f"only the configs (new length) change: {changed}"
    assert set(after) == set(before), "no file added, none removed"
