"""Issue 41 item 2: `multistyle export` (ONNX) and the onnxruntime path (`multistyle image onnx`, no torch import).

Tolerance: in float32, each exported graph's output, and the whole onnxruntime path's image (resizing, padding, AdaIN
statistics, degrid and palette in NumPy), are within 1e-3 (max abs, images in [0, 1]) of torch's on 64-px inputs;
measured 2e-6 to 6e-6 on torch 2.11 / onnxruntime 1.32. Encoder features (relu4_1, values up to ~1e3) are compared
relative to their largest value."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed (pip install 'multistyle[onnx]')")
pytest.importorskip("onnx", reason="exporting needs onnx (pip install 'multistyle[onnx]')")

from multistyle.image import onnx_runtime  # noqa: E402

TOLERANCE = 1e-3
STYLE = "wave_small"  # the smallest shipped per-style network: the quickest export


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    from multistyle.image.export import export_adain, export_fast

    folder = tmp_path_factory.mktemp("exported")
    return {"fast": export_fast(STYLE, folder / f"{STYLE}.onnx"), "adain": export_adain(folder / "adain")}


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run(session, x: torch.Tensor) -> np.ndarray:
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


@pytest.mark.parametrize("shape", [(64, 64), (48, 80)])
def test_per_style_graph_matches_torch(exported, shape):
    from multistyle.image.fast import load_network, resolve_style

    network, _ = load_network(resolve_style(STYLE))
    network = network.float().eval()
    x = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = network(x).numpy()
    got = _run(_session(exported["fast"]), x)
    assert got.shape == expected.shape  # dynamic height and width
    assert np.abs(got - expected).max() <= TOLERANCE


def test_adain_graphs_match_torch(exported):
    from multistyle.image.adain import AdaINNetwork, load_decoder

    network = AdaINNetwork(load_decoder()).float().eval()
    x = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        features = network.encode(x)
        decoded = network.decoder(features).float()
    got_features = _run(_session(exported["adain"] / "encoder.onnx"), x)
    assert got_features.shape == tuple(features.shape) == (1, 512, 8, 12)
    assert np.abs(got_features - features.numpy()).max() <= TOLERANCE * float(features.abs().max())
    got = _run(_session(exported["adain"] / "decoder.onnx"), features)
    assert got.shape == (1, 3, 64, 96)
    assert np.abs(got - decoded.numpy()).max() <= TOLERANCE


def test_whole_onnxruntime_path_matches_the_torch_commands(exported, sample_images):
    """Size rule, padding (a 64 x 43 output is not a multiple of 4 or 8), degrid, palette and alpha, for both kinds."""
    from multistyle.image.adain import AdaIN
    from multistyle.image.fast import FastStyle

    content, style = sample_images["content"], sample_images["style"]
    fast = onnx_runtime.load_model(exported["fast"])(content, size=64, alpha=0.9)
    expected = FastStyle.from_pretrained(STYLE, precision="fp32", device="cpu")(content, size=64, alpha=0.9).tensor
    assert fast.shape == (43, 64, 3)
    assert np.abs(fast - expected[0].permute(1, 2, 0).numpy()).max() <= TOLERANCE
    adain = onnx_runtime.load_model(exported["adain"])(content, style, size=64, alpha=0.8)
    expected = AdaIN.from_pretrained(precision="fp32", device="cpu")(content, style, size=64, alpha=0.8).tensor
    assert np.abs(adain - expected[0].permute(1, 2, 0).numpy()).max() <= TOLERANCE
    plain = onnx_runtime.load_model(exported["adain"])(content, style, size=64, alpha=0.8, palette=False, degrid=False)
    assert np.abs(plain - adain).max() > 0.01  # the steps around the graphs do something, so the match above means something


@pytest.mark.parametrize("name", onnx_runtime.shipped_exports())
def test_each_shipped_export_is_of_the_shipped_weights_and_matches_them(name, sample_images):
    """A shipped .onnx was exported from the shipped network of its name as it is now (recipes/ship_fast_style.py
    exports again when it ships new weights), and runs by name."""
    from multistyle.image.export import sha256
    from multistyle.image.fast import FastStyle, resolve_style

    info = json.loads((onnx_runtime.SHIPPED_ONNX / f"{name}.json").read_text())
    assert info["source"]["sha256"] == sha256(resolve_style(name)), f"{name}.onnx is not an export of the shipped {name}"
    got = onnx_runtime.load_model(name)(sample_images["content"], size=64)
    expected = FastStyle.from_pretrained(name, precision="fp32", device="cpu")(sample_images["content"], size=64).tensor
    assert np.abs(got - expected[0].permute(1, 2, 0).numpy()).max() <= TOLERANCE


def test_a_shipped_export_runs_by_name_from_the_command(cli, sample_images, tmp_path):
    assert "wave_small" in onnx_runtime.shipped_exports()
    code, out, err = cli("image", "onnx", "wave_small", sample_images["content"], "-o", tmp_path / "out.png", "--size", "64")
    assert code == 0 and "wrote" in out, err
    code, _, err = cli("image", "onnx", "no_such_export", sample_images["content"], "-o", tmp_path / "x.png")
    assert code == 2 and "no_such_export: not found" in err and "wave_small" in err, err


def test_json_beside_each_graph(exported):
    from multistyle.core.vgg import weights_path
    from multistyle.image.adain import shipped_decoder_path
    from multistyle.image.export import sha256
    from multistyle.image.fast import resolve_style

    fast = json.loads(exported["fast"].with_suffix(".json").read_text())
    assert fast["kind"] == "fast" and fast["name"] == STYLE and fast["opset"] == 17
    assert fast["input"] == {"name": "image", "layout": "NCHW", "channels": "RGB", "dtype": "float32", "range": [0, 1], "multiple": 4}
    source = resolve_style(STYLE)
    assert fast["palette"] == json.loads(source.with_suffix(".json").read_text())["palette"]
    assert fast["source"]["sha256"] == sha256(source)
    adain = json.loads((exported["adain"] / "adain.json").read_text())
    assert adain["kind"] == "adain" and adain["encoder"]["output"]["layer"] == "relu4_1"
    assert adain["decoder"]["upsample"] in ("nearest", "bilinear")
    assert adain["source"]["decoder_sha256"] == sha256(shipped_decoder_path())
    assert adain["source"]["vgg19_sha256"] == sha256(weights_path())


def test_runtime_constants_agree_with_the_torch_path():
    from multistyle.image import io

    assert onnx_runtime.DEFAULT_LONG_SIDE == io.DEFAULT_LONG_SIDE
    assert onnx_runtime.MAX_PIXELS == io.MAX_PIXELS
    for h, w, size in [(300, 451, None), (1000, 600, None), (300, 451, 0), (300, 451, 64), (3, 2000, None)]:
        assert onnx_runtime.output_size(h, w, size) == io.output_size(h, w, size)
    x = torch.rand(1, 3, 13, 30)
    for multiple in (4, 8):
        assert np.array_equal(onnx_runtime.pad_to_multiple(x.numpy(), multiple), io.pad_to_multiple(x, multiple).numpy())
    thin = torch.rand(1, 3, 3, 40)  # too thin to reflect: edges repeated
    assert np.array_equal(onnx_runtime.pad_to_multiple(thin.numpy(), 8), io.pad_to_multiple(thin, 8).numpy())
    from multistyle.image.adain import AdaINConfig

    assert onnx_runtime.ADAIN_MARGIN == AdaINConfig.margin
    for image in (x, thin):
        assert np.array_equal(onnx_runtime.pad_border(image.numpy(), 16), io.pad_border(image, 16).numpy())



@pytest.mark.parametrize("shape", [(1, 3, 43, 64), (2, 3, 17, 9)])
def test_degrid_through_numpy_matches_scipy(shape):
    from multistyle.image.degrid import remove_grid_array

    pixels = np.random.default_rng(0).random(shape, dtype=np.float32)
    scipy_way = remove_grid_array(pixels, 8)
    numpy_way = remove_grid_array(pixels, 8, backend="numpy")
    assert numpy_way.shape == shape and numpy_way.dtype == np.float32
    assert np.abs(numpy_way - scipy_way).max() < 1e-5
    assert np.abs(numpy_way - pixels).max() > 1e-3  # it filtered something

NO_TORCH = textwrap.dedent("""
    import sys
    from multistyle.cli import _run
    codes = [_run(args) for args in {runs!r}]
    print(codes, sorted(m for m in sys.modules if m in ("torch", "torchvision", "scipy.fft") or m.startswith("torch.")))
""")


def test_the_onnx_command_never_imports_torch(exported, sample_images, tmp_path):
    content, style = str(sample_images["content"]), str(sample_images["style"])
    runs = [["image", "onnx", str(exported["fast"]), content, "-o", str(tmp_path / "fast.png"), "--size", "64"],
            ["image", "onnx", str(exported["adain"]), content, style, "-o", str(tmp_path / "adain.jpg"), "--size", "64"]]
    done = subprocess.run([sys.executable, "-c", NO_TORCH.format(runs=runs)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 0] []", done.stdout + done.stderr
    from PIL import Image

    assert Image.open(tmp_path / "fast.png").size == (64, 43)
    assert Image.open(tmp_path / "adain.jpg").size == (64, 43)
    report = json.loads((tmp_path / "adain.json").read_text())
    assert report["method"] == "onnx-adain" and report["size"] == [43, 64]  # height, width, as torch's reports



def test_a_folder_of_photos_is_one_batch_with_images_per_second(cli, exported, sample_images, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("content", "style2"):
        (photos / f"{name}.png").write_bytes(sample_images[name].read_bytes())
    (photos / "notes.txt").write_text("not an image")
    for model, extra in ((exported["fast"], []), (exported["adain"], [str(sample_images["style"])])):
        out = tmp_path / f"out_{model.stem}"
        code, stdout, err = cli("image", "onnx", model, photos, *extra, "-o", out, "--size", "32")
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == ["content.png", "onnx.json", "style2.png"]
        report = json.loads((out / "onnx.json").read_text())
        assert report["images"] == 2 and report["images_per_second"] > 0 and "images/s" in stdout
    code, _, err = cli("image", "onnx", exported["fast"], photos, "-o", photos / "inside")
    assert code == 2 and "inside" in err and not (photos / "inside").exists()

def test_bad_inputs_are_one_error_line(cli, exported, sample_images, tmp_path):
    content, style = str(sample_images["content"]), str(sample_images["style"])
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a graph")
    broken.with_suffix(".json").write_text(exported["fast"].with_suffix(".json").read_text())
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(exported["fast"].read_bytes())
    out = str(tmp_path / "out.png")
    cases = [
        (["export", "fast", "no_such_style", "-o", str(tmp_path / "x.onnx")], "unknown style 'no_such_style'"),
        (["export", "fast", STYLE, "-o", str(tmp_path / "x.txt")], "give an .onnx file name"),
        (["export", "fast", STYLE, "-o", str(tmp_path / "x.onnx"), "--exporter", "jit"], "--exporter must be one of"),
        (["export", "fast", STYLE, "-o", str(tmp_path / "x.onnx"), "--opset", "9"], "--opset must be from 13 to 20"),
        (["export", "adain", "-o", str(tmp_path / "a"), "--exporter", "dynamo", "--opset", "17"], "from 18 to 23 with the dynamo"),
        (["export", "adain", "-o", str(tmp_path / "a"), "--decoder", str(tmp_path / "none.safetensors")], "decoder file not found"),
        (["image", "onnx", str(tmp_path / "missing"), content, "-o", out], "not found"),
        (["image", "onnx", str(exported["adain"]), content, "-o", out], "takes CONTENT and one STYLE"),
        (["image", "onnx", str(exported["fast"]), content, style, "-o", out], "takes CONTENT only"),
        (["image", "onnx", str(exported["fast"]), str(tmp_path / "nope.jpg"), "-o", out], "nope.jpg: file not found"),
        (["image", "onnx", str(exported["fast"]), content, "-o", str(tmp_path / "o.xyz")], "unsupported output format"),
        (["image", "onnx", str(exported["fast"]), content, "-o", out, "--alpha", "2"], "--alpha must be between 0 and 1"),
        (["image", "onnx", str(exported["adain"]), content, style, "-o", out, "--alpha", "-1"], "--alpha must be between 0 and 1"),
        (["image", "onnx", str(exported["fast"]), content, "-o", content], "is also an input"),
        (["image", "onnx", str(broken), content, "-o", out], "onnxruntime cannot load it"),
        (["image", "onnx", str(lonely), content, "-o", out], "lonely.json: not found"),
        # terabytes of activations: refused before onnxruntime allocates (it used to get the process killed)
        (["image", "onnx", str(exported["fast"]), content, "-o", out, "--size", "100000"], "per-style network on 100004x"),
        (["image", "onnx", str(exported["adain"]), content, style, "-o", out, "--size", "100000"], "AdaIN on 100040x"),
    ]
    for args, fragment in cases:
        code, stdout, err = cli(*args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], (args, err)
    assert not (tmp_path / "out.png").exists() and not (tmp_path / "x.onnx").exists()



def test_without_the_extra_it_says_what_to_install(cli, exported, sample_images, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed: importing it raises ImportError
    monkeypatch.setitem(sys.modules, "onnx", None)
    code, _, err = cli("image", "onnx", exported["fast"], sample_images["content"], "-o", tmp_path / "o.png")
    assert code == 2 and err.strip() == "error: running exported models needs onnxruntime, which is not installed: " \
        "pip install 'multistyle[onnx]'"
    code, _, err = cli("export", "fast", STYLE, "-o", tmp_path / "x.onnx")
    assert code == 2 and "exporting needs onnx, which is not installed" in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_a_small_adain_model_exports_and_matches_torch(tmp_path, sample_images):
    """The small AdaIN (a narrower encoder with its own weights) exports the same way, its widths in adain.json."""
    from multistyle.image.adain import AdaIN, AdaINNetwork, Decoder, save_network
    from multistyle.image.export import export_adain

    widths = (8, 16, 16, 32)
    torch.manual_seed(0)
    network = AdaINNetwork(Decoder("bilinear", widths), widths)
    with torch.no_grad():
        for p in network.parameters():
            p.mul_(0.5)  # keep a random net's activations from growing layer by layer
    path = tmp_path / "small.safetensors"
    save_network(network, path)
    folder = export_adain(tmp_path / "small", decoder=path)
    info = json.loads((folder / "adain.json").read_text())
    assert info["encoder"]["output"]["channels"] == info["decoder"]["input"]["channels"] == 32 and "vgg19" not in info["source"]
    content, style = sample_images["content"], sample_images["style"]
    got = onnx_runtime.load_model(folder)(content, style, size=64, alpha=0.8)
    expected = AdaIN.from_pretrained(path, precision="fp32", device="cpu")(content, style, size=64, alpha=0.8).tensor
    assert got.std() > 0.02  # an image, not a flat colour that any two paths would agree on
    assert np.abs(got - expected[0].permute(1, 2, 0).numpy()).max() <= TOLERANCE


def test_image_fast_runs_a_shipped_export_for_one_photo_unless_torch_is_asked_for(cli, sample_images, tmp_path):
    """`image fast --engine auto` (the default) takes the onnxruntime path when the style ships exported: the same
    picture as torch's in fp32, without torch's start-up; an option only torch takes keeps torch."""
    from PIL import Image

    def run(name: str, *options: str) -> tuple[dict, np.ndarray]:
        out = tmp_path / f"{name}.png"
        code, _, err = cli("image", "fast", sample_images["content"], "--style", "wave_small", "-o", out, "--size", "64", *options)
        assert code == 0, err
        return json.loads(out.with_suffix(".json").read_text()), np.asarray(Image.open(out), dtype=float)

    (auto, a), (torch_path, b) = run("auto"), run("torch", "--engine", "torch", "--precision", "fp32")
    assert auto["method"] == "onnx-fast" and torch_path["method"] != "onnx-fast"
    assert np.abs(a - b).max() <= 1  # 8-bit levels: the same network in float32 both ways
    assert run("kept", "--preserve-color")[0]["method"] != "onnx-fast"
    code, _, err = cli("image", "fast", sample_images["content"], "--style", "wave_video", "-o", tmp_path / "x.png", "--engine", "onnx")
    assert code == 2 and err.count("error:") == 1 and "ships no ONNX export" in err, err
    code, _, err = cli("image", "fast", sample_images["content"], "--style", "wave_small", "-o", tmp_path / "x.png", "--engine", "jax")
    assert code == 2 and "--engine must be auto, torch or onnx" in err, err


def test_a_folder_named_like_a_shipped_export_comes_first_as_it_does_for_torch(cli, sample_images, tmp_path, monkeypatch):
    """A training run in ./wave_small is what `--style wave_small` means to the torch path; auto must not swap in the
    shipped export for it."""
    import shutil

    from multistyle.image.fast import resolve_style

    shipped = resolve_style("wave_small")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wave_small").mkdir()
    shutil.copyfile(shipped, tmp_path / "wave_small" / "model.safetensors")
    shutil.copyfile(shipped.with_suffix(".json"), tmp_path / "wave_small" / "model.json")
    assert onnx_runtime.shipped_export("wave_small") is None
    code, _, err = cli("image", "fast", sample_images["content"], "--style", "wave_small", "-o", "out.png", "--size", "64")
    assert code == 0, err
    assert json.loads((tmp_path / "out.json").read_text())["method"] != "onnx-fast"
