"""The usage-error table (issue 36): every command-line mistake, on every command, is one `usage:` line and one
`error:` line on stderr, exit status 2, no traceback, before any file is read or model loaded (the files named
below do not exist). `-h` is `--help`, `--version` prints the version, a bare group prints its help (status 0).
The fragments hold across typer releases: this file passes with typer 0.29 (click vendored as typer._click) and
with typer 0.15 on click 8.1 (click's own exception classes)."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import multistyle

ROOT = Path(__file__).resolve().parents[1]

# (arguments, a fragment of the error line)
ERRORS = [
    # the top level
    (["imgae"], "no such command 'imgae'"),
    (["--szie", "3"], "no such option: --szie"),
    (["--version=3"], "does not take a value"),
    # video
    (["video", "clip.mp4", "out.mp4", "--style", "s.jpg"], "missing option '-o'"),  # the output is -o, as everywhere
    (["video", "clip.mp4", "-o", "out.mp4"], "missing option '--style'"),
    (["video", "clip.mp4", "--style", "s.jpg"], "missing option '-o'"),
    (["video", "clip.mp4", "-o", "out.mp4", "--style", "s.jpg", "--max-frames", "many"], "invalid value for '--max-frames'"),
    (["video", "clip.mp4", "-o", "out.mp4", "--style", "s.jpg", "--temporal", "high"], "invalid value for '--temporal'"),
    # demo, serve
    (["demo", "--out"], "option '--out' requires an argument"),
    (["demo", "--quick"], "no such option: --quick"),
    (["serve", "--port", "http"], "invalid value for '--port'"),
    (["serve", "extra"], "unexpected extra argument"),
    # image
    (["image", "adian"], "no such command 'adian'"),  # newer typer adds: did you mean 'adain'?
    (["image", "--szie"], "no such option: --szie"),
    (["image", "gatys", "c.jpg", "s.jpg"], "missing option '-o' / '--output'"),
    (["image", "gatys", "-o", "o.png"], "missing argument 'images"),
    (["image", "gatys", "c.jpg", "s.jpg", "-o", "o.png", "--steps", "ten"], "invalid value for '--steps'"),
    (["image", "gatys", "c.jpg", "s.jpg", "-o", "o.png", "--content-weight", "heavy"], "invalid value for '--content-weight'"),
    (["image", "gatys", "c.jpg", "s.jpg", "-o", "o.png", "--preserve-color=yes"], "does not take a value"),
    (["image", "texture", "s.jpg"], "missing option '-o' / '--output'"),
    (["image", "texture", "s.jpg", "-o", "o.png", "--seed", "x"], "invalid value for '--seed'"),
    (["image", "photoreal", "c.jpg", "r.jpg"], "missing option '-o' / '--output'"),
    (["image", "photoreal", "c.jpg", "r.jpg", "-o", "o.png", "--steps", "x"], "invalid value for '--steps'"),
    (["image", "doodle", "s.jpg", "m.png"], "missing argument"),
    (["image", "doodle", "s.jpg", "m.png", "o.png", "-o", "o.png", "--map-weight", "x"], "invalid value for '--map-weight'"),
    (["image", "adain", "c.jpg", "s.jpg", "out.png"], "missing option '-o' / '--output'"),
    (["image", "adain", "c.jpg", "s.jpg", "-o", "o.png", "--szie", "256"], "no such option: --szie"),
    (["image", "adain", "c.jpg", "s.jpg", "-o", "o.png", "--size", "abc"], "invalid value for '--size'"),
    (["image", "adain", "c.jpg", "s.jpg", "-o"], "option '-o' requires an argument"),
    (["image", "adain", "c.jpg", "s.jpg", "-o", "o.png", "--palette=no"], "does not take a value"),
    (["image", "adain", "c.jpg", "s.jpg", "-o", "o.png", "--alpha", "half"], "invalid value for '--alpha'"),
    (["image", "train-adain", "--iterations", "5"], "missing option '--out'"),
    (["image", "train-adain", "--out", "run", "--batch-size", "four"], "invalid value for '--batch-size'"),
    (["image", "fast", "c.jpg", "-o", "o.png"], "missing option '--style'"),
    (["image", "fast", "c.jpg", "--style", "wave", "-o", "o.png", "--alpha", "full"], "invalid value for '--alpha'"),
    (["image", "fast", "c.jpg", "--style", "wave", "-o", "o.png", "--strength", "1"], "no such option: --strength"),
    (["image", "styles", "extra"], "unexpected extra argument"),
    (["image", "styles", "--sheet"], "option '--sheet' requires an argument"),
    (["image", "train-fast", "s.jpg", "--bf16"], "no such option: --bf16"),
    (["image", "train-adain", "--out", "run", "--bf16"], "no such option: --bf16"),
    (["image", "train-fast", "s.jpg", "--iterations", "1e3"], "invalid value for '--iterations'"),
    (["image", "grid", "a.png", "b.png"], "missing option '-o' / '--output'"),
    (["image", "grid", "a.png", "-o", "g.png", "--columns", "1.5"], "invalid value for '--columns'"),
    (["image", "onnx", "m.onnx", "c.jpg"], "missing option '-o' / '--output'"),
    (["image", "onnx", "m.onnx", "c.jpg", "-o", "o.png", "--threads", "many"], "invalid value for '--threads'"),
    # export
    (["export", "adian"], "no such command 'adian'"),
    (["export", "adain"], "missing option '-o' / '--output'"),
    (["export", "adain", "-o", "out", "--opset", "new"], "invalid value for '--opset'"),
    (["export", "fast", "-o", "x.onnx"], "missing argument 'style"),
    (["export", "fast", "wave", "x.onnx"], "missing option '-o' / '--output'"),
    # text
    (["text", "tranfser"], "no such command 'tranfser'"),
    (["text", "train", "--out", "run"], "missing option '--data'"),
    (["text", "train", "--data", "d", "--out", "run", "--epochs", "many"], "invalid value for '--epochs'"),
    (["text", "train-evaluator", "--data", "d"], "missing option '--out'"),
    (["text", "train-selector", "--data", "d"], "missing option '--model'"),
    (["text", "transfer", "--beam"], "option '--beam' requires an argument"),
    (["text", "transfer", "--strength", "x", "hello"], "invalid value for '--strength'"),
    (["text", "transfer", "hello", "-o"], "option '-o' requires an argument"),
    (["text", "evaluate"], "missing option '--data'"),
    (["text", "evaluate", "--data", "d", "--beam", "wide"], "invalid value for '--beam'"),
    (["text", "calibrate", "--model", "m"], "missing option '--data'"),
    (["text", "calibrate", "--model", "m", "--data", "d", "--accuracy", "high"], "invalid value for '--accuracy'"),
    (["text", "toy-corpus"], "missing option '-o'"),
    (["text", "toy-corpus", "-o", "a", "b"], "unexpected extra argument"),
    # audio
    (["audio", "transfer", "a.wav", "b.wav"], "missing option '-o' / '--output'"),
    (["audio", "transfer", "a.wav", "b.wav", "c.wav", "-o", "o.wav"], "unexpected extra argument"),
    (["audio", "transfer", "a.wav", "b.wav", "-o", "o.wav", "--n-fft", "big"], "invalid value for '--n-fft'"),
    (["audio", "texture", "s.wav"], "missing option '-o' / '--output'"),
    (["audio", "texture", "s.wav", "-o", "o.wav", "--seconds", "ten"], "invalid value for '--seconds'"),
    (["audio", "texture", "s.wav", "-o", "o.wav", "--float-wav=1"], "does not take a value"),
]


@pytest.mark.parametrize("args, fragment", ERRORS, ids=[" ".join(args) for args, _ in ERRORS])
def test_usage_error_is_one_usage_line_one_error_line_and_status_2(cli, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)  # nothing may be written, wherever the arguments point
    code, out, err = cli(*args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("usage: multistyle") and lines[1].startswith("error: "), err
    assert fragment.lower() in lines[1].lower(), err
    assert "Input should be" not in err  # a validator's wording (typer 0.2x) reads as plain words
    assert not any(tmp_path.iterdir())


def _commands(command, path=()):
    """Every leaf command's path, from the click tree that typer builds."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [path]
    return [leaf for name, sub in subcommands.items() for leaf in _commands(sub, (*path, name))]


def test_the_table_covers_every_command():
    import typer.main

    from multistyle.cli import app

    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 20
    covered = {tuple(args[:len(path)]) for args, _ in ERRORS for path in commands if tuple(args[:len(path)]) == path}
    assert set(commands) - covered == set()
    assert len(ERRORS) >= 40


HELP = [[], ["-h"], ["--help"], ["image"], ["image", "-h"], ["text"], ["audio", "--help"], ["image", "adain", "-h"],
        ["image", "gatys", "--help"], ["text", "transfer", "-h"], ["audio", "texture", "-h"], ["video", "-h"],
        ["serve", "-h"], ["demo", "-h"]]


@pytest.mark.parametrize("args", HELP, ids=[" ".join(args) or "(no arguments)" for args in HELP])
def test_help_and_bare_groups_print_help_with_status_0(cli, args):
    code, out, err = cli(*args)
    assert code == 0, err
    assert err == "" and "Traceback" not in out
    assert "Usage: multistyle" in out
    assert ("--help" in out and "-h" in out)


def test_bare_group_help_is_the_groups_help(cli):
    _, bare, _ = cli("image")
    _, helped, _ = cli("image", "--help")
    assert bare.strip() == helped.strip()


def test_version(cli):
    code, out, err = cli("--version")
    assert (code, out, err) == (0, f"multistyle {multistyle.__version__}\n", "")


def test_a_usage_error_through_the_module_exits_2_in_a_fresh_interpreter():
    """The real exit path (sys.exit from main, as the console script runs it), not the test fixture's."""
    run = subprocess.run([sys.executable, "-m", "multistyle", "image", "adain", "c.jpg", "s.jpg", "out.png"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].startswith("error: missing option '-o' / '--output'"), run.stderr


def test_help_defaults_read_from_source_are_the_dataclasses_defaults():
    """multistyle.cli.defaults reads the config classes' defaults without importing their modules; every field
    of every class the CLI names must read back as the class itself has it (type included: 1 is not 1.0)."""
    import dataclasses
    import importlib

    from multistyle.cli import audio, image
    from multistyle.cli.defaults import constant, field_default

    refs = [image.G, image.A, image.T, image.F, image.FT, audio.C, audio.TC]
    checked = 0
    for ref in refs:
        module, name = ref.split(":")
        cls = getattr(importlib.import_module(module), name)
        for field in dataclasses.fields(cls):
            real = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            read = field_default(ref, field.name)
            assert (read, type(read)) == (real, type(real)), f"{ref}.{field.name}"
            checked += 1
    assert checked > 100
    for module, name in [("multistyle.core.optimize", "DEFAULT_LR"), ("multistyle.image.gatys", "DEFAULT_STYLE_WEIGHTS"),
                         ("multistyle.audio.config", "DEFAULT_STEPS")]:
        assert constant(module, name) == getattr(importlib.import_module(module), name)


# Heavy modules that a help page or a usage error must not import (seconds of start-up between them).
HEAVY = ("torch", "torchvision", "torchaudio", "numpy", "scipy", "librosa", "cv2", "av", "matplotlib", "skimage",
         "sentencepiece", "transformers")
PROBE = textwrap.dedent("""
    import contextlib, io, json, sys
    from multistyle.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(sys.argv[1:])
        except SystemExit as e:
            code = e.code
    print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "modules": sorted(sys.modules)}))
""")


@pytest.mark.parametrize("args, status", [
    (["--help"], 0),
    (["image", "gatys", "--help"], 0),
    (["audio", "transfer", "-h"], 0),
    (["image", "adain", "c.jpg", "s.jpg", "out.png"], 2),
    (["text", "transfer", "--beam", "wide", "hello"], 2),
])
def test_help_and_usage_errors_import_no_heavy_module(args, status):
    """Start-up (issue 36: --help and a usage error within 0.5 s): torch and the other heavy libraries load only
    when a command runs. A fresh interpreter, so that nothing another test imported counts."""
    import json

    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["code"] == status, result["err"]
    loaded = {name.split(".")[0] for name in result["modules"]}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def _options():
    """(command path, click option) for every option of every command, from the tree main() runs."""
    from multistyle.cli import _command

    def walk(command, path):
        for sub_name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, sub_name))
        for param in command.params:
            if param.param_type_name == "option":
                yield path, param

    return list(walk(_command(), ()))


def test_help_shows_every_default_one_way():
    """Every option with a default says it as "(default: X)" in its help; none as typer's "[default: X]" (which
    rich also drops as markup when written in help text), and flags such as --palette/--no-palette say theirs."""
    options = _options()
    assert len(options) > 150
    for path, option in options:
        help_text = option.help or ""
        assert "[default" not in help_text, (path, option.name)
        has_default = option.default is not None and not getattr(option, "is_flag", False)
        if has_default and option.name not in ("help", "version"):
            assert "(default: " in help_text and option.show_default is not True, (path, option.name, help_text)
    shown = {(path, option.name): option.help for path, option in options}
    for path, name, text in [(("image", "adain"), "palette", "(default: on)"), (("image", "adain"), "degrid", "(default: on)"),
                             (("image", "fast"), "palette", "(default: on)"), (("image", "fast"), "degrid", "(default: on)"),
                             (("text", "transfer"), "select", "(default: on)"), (("text", "evaluate"), "select", "(default: on)"),
                             (("image", "gatys"), "precision", "(default: auto)"), (("image", "adain"), "quality", "(default: 95)"),
                             (("serve",), "port", "(default: 7860)")]:
        assert text in shown[path, name], (path, name, shown[path, name])


def test_rendered_help_has_no_bracketed_default(cli):
    for command in (["image", "adain"], ["image", "grid"], ["serve"], ["text", "transfer"]):
        code, out, _ = cli(*command, "--help")
        assert code == 0 and "[default" not in out and "(default: " in out, command


# The config class each command loads its --config into.
CONFIG_CLASSES = {
    ("video",): "multistyle.video.stylize:VideoConfig", ("image", "gatys"): "multistyle.image.gatys:GatysConfig",
    ("image", "texture"): "multistyle.image.gatys:GatysConfig", ("image", "adain"): "multistyle.image.adain:AdaINConfig",
    ("image", "train-adain"): "multistyle.image.train_adain:AdaINTrainConfig",
    ("image", "fast"): "multistyle.image.fast:FastStyleConfig",
    ("image", "train-fast"): "multistyle.image.train_fast:FastTrainConfig",
    ("image", "photoreal"): "multistyle.image.photoreal:PhotorealConfig", ("image", "doodle"): "multistyle.image.gatys:GatysConfig",
    ("text", "train"): "multistyle.text.config:CrossAlignConfig", ("text", "train-evaluator"): "multistyle.text.config:EvaluatorConfig",
    ("text", "train-selector"): "multistyle.text.config:SelectorConfig", ("text", "transfer"): "multistyle.text.config:TransferConfig",
    ("text", "evaluate"): "multistyle.text.config:EvaluationConfig", ("text", "calibrate"): "multistyle.text.config:CalibrationConfig",
    ("audio", "transfer"): "multistyle.audio.config:GrinsteinConfig", ("audio", "texture"): "multistyle.audio.config:TextureConfig",
}


def test_every_config_example_in_help_loads_into_that_commands_config():
    """Help used to offer image/adain (train-adain's file) on every page; `image adain --config image/adain` failed."""
    import importlib
    import re

    from multistyle.core.config import load_config

    examples = {}
    for path, option in _options():
        if option.name == "config":
            assert path in CONFIG_CLASSES, path
            found = re.search(r"such as (\S+?)\)", option.help)
            if found:
                examples[path] = found.group(1)
    assert {("image", "gatys"), ("image", "train-adain"), ("audio", "transfer"), ("text", "train")} <= set(examples)
    for path, example in examples.items():
        module, name = CONFIG_CLASSES[path].split(":")
        load_config(getattr(importlib.import_module(module), name), example)  # raises ConfigError on another's keys


def test_group_help_lists_each_commands_whole_description(cli):
    """Not click's cut at the first '. ' or at 45 characters ("gatys  Gatys et al.", "adain  AdaIN (...) real-time...")."""
    from multistyle.cli import _command

    root = _command()
    for group, command in [([], root), *(([name], sub) for name, sub in root.commands.items() if hasattr(sub, "commands"))]:
        code, out, _ = cli(*group, "--help")
        flat = " ".join(out.split("Commands:", 1)[1].split())
        for name, sub in command.commands.items():
            assert f"{name} {' '.join(sub.help.split(chr(10) * 2)[0].split())}" in flat, (group, name)
