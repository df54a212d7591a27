"""Training, transfer, evaluation and their CLI on the toy corpus (tiny models, CPU, seconds)."""
import dataclasses
import json
import os
import random
import shutil
import signal

import pytest
import torch

from multistyle.core.checkpoint import load_training_state
from multistyle.errors import InputError
from multistyle.text import train as train_module
from multistyle.text.bundle import CALIBRATION, load_model
from multistyle.text.calibrate import calibrate
from multistyle.text.config import CrossAlignConfig, EvaluatorConfig
from multistyle.text.data import read_split
from multistyle.text.evaluate import evaluate
from multistyle.text.evaluator import load_evaluator, train_evaluator
from multistyle.text.tokenize import split_words
from multistyle.text.toy import NOUNS, OCCASIONS, SENTIMENT_WORDS, write_toy_corpus
from multistyle.text.train import run_config, train
from multistyle.text.transfer import fill_placeholders, transfer_sentences
from multistyle.text.vocab import SPECIALS, Vocab

TOY_MODEL = CrossAlignConfig(
    max_len=12, min_count=1, dim_emb=64, dim_y=32, dim_z=128, dropout=0.0, filter_sizes=(1, 2, 3), n_filters=32,
    batch_size=32, lr=5e-3, gamma_decay=0.5, epochs=6, checkpoint_every=100, target_accuracy=90.0, device="cpu",
)
TOY_EVALUATOR = EvaluatorConfig(
    min_count=1, classifier_epochs=4, classifier_dim_emb=32, classifier_filter_sizes=(1, 2, 3), classifier_n_filters=32,
    lm_epochs=2, lm_layers=1, lm_dim=32, lm_heads=2, device="cpu",
)
SMALL = dataclasses.replace(TOY_MODEL, dim_emb=8, dim_y=4, dim_z=12, n_filters=4, dropout=0.1, batch_size=64, epochs=1)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_corpus(tmp_path_factory.mktemp("toy") / "corpus")


@pytest.fixture(scope="module")
def toy_evaluator(toy, tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluator")
    train_evaluator(toy, folder, TOY_EVALUATOR, show_progress=False)
    return folder


@pytest.fixture(scope="module")
def toy_model(toy, toy_evaluator, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "model"
    train(toy, folder, TOY_MODEL, classifier=load_evaluator(toy_evaluator).classifier, show_progress=False)
    return folder


@pytest.fixture(scope="module")
def weak_model(toy, toy_evaluator, tmp_path_factory):
    """One epoch: it flips about half the dev sentences at strength 0, nearly all at strength 3."""
    folder = tmp_path_factory.mktemp("weak") / "model"
    train(toy, folder, dataclasses.replace(TOY_MODEL, epochs=1), classifier=load_evaluator(toy_evaluator).classifier, show_progress=False)
    return folder


def test_evaluator_classifies_and_scores_fluency(toy, toy_evaluator):
    evaluator = load_evaluator(toy_evaluator)
    assert evaluator.figures["classifier_test_accuracy"] >= 95
    neg, pos = read_split(toy, "test")
    shuffled = [random.Random(i).sample(s, len(s)) for i, s in enumerate(neg + pos)]
    assert evaluator.lm.perplexity(neg + pos) < 0.5 * evaluator.lm.perplexity(shuffled)


def test_training_flips_held_out_sentences_and_keeps_their_content(toy, toy_evaluator, toy_model):
    trained = load_model(toy_model)
    neg, pos = read_split(toy, "test")
    outputs = transfer_sentences(trained, neg, "positive") + transfer_sentences(trained, pos, "negative")
    targets = [1] * len(neg) + [0] * len(pos)
    assert load_evaluator(toy_evaluator).classifier.accuracy(outputs, targets) >= 80

    content = set(NOUNS) | {w for o in OCCASIONS for w in o.split()}
    kept = [
        {w for w in source if w in content} <= set(output)
        for source, output in zip(neg + pos, outputs)
    ]
    assert sum(kept) >= 0.8 * len(kept), "the non-sentiment words survive transfer"
    moved = [not set(output) & set(SENTIMENT_WORDS[1 - y]) for output, y in zip(outputs, targets)]
    assert sum(moved) >= 0.8 * len(moved), "the source's sentiment word is gone"


def test_run_folder_logs_every_epoch_and_keeps_the_best_model(toy_model):
    records = [json.loads(line) for line in (toy_model / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, TOY_MODEL.epochs + 1))
    assert all({"rec", "accuracy", "self_bleu", "strength", "calibrated_accuracy", "calibrated_self_bleu"} <= set(r["dev"]) for r in records)
    figures = json.loads((toy_model / "figures.json").read_text())
    best = figures["best"]
    reached = [r for r in records if r["dev"]["calibrated_accuracy"] >= TOY_MODEL.target_accuracy]
    assert reached, "some epoch reaches the target accuracy"
    assert best == max(reached, key=lambda r: r["dev"]["calibrated_self_bleu"]), "the kept model: most content at the target"
    calibration = json.loads((toy_model / CALIBRATION).read_text())
    assert (calibration["strength"], calibration["epoch"]) == (best["dev"]["strength"], best["epoch"])
    assert load_model(toy_model).strength == best["dev"]["strength"]
    assert figures["steps"] == TOY_MODEL.epochs * 36


def test_resume_reproduces_the_next_step_exactly(toy, tmp_path):
    train(toy, tmp_path / "straight", dataclasses.replace(SMALL, max_steps=4), show_progress=False)
    train(toy, tmp_path / "resumed", dataclasses.replace(SMALL, max_steps=3), show_progress=False)
    config = run_config(tmp_path / "resumed", None, True, max_steps=4)
    train(toy, tmp_path / "resumed", config, resume=True, show_progress=False)
    (straight, info), (resumed, resumed_info) = (load_training_state(tmp_path / run / "checkpoint") for run in ("straight", "resumed"))
    assert info["step"] == resumed_info["step"] == 4
    for part in ("model", "discriminators"):
        for name, tensor in straight[part].items():
            assert torch.equal(tensor, resumed[part][name]), f"{part}.{name} differs after resuming"
    assert torch.equal(straight["ae_optimizer"]["state"][0]["exp_avg"], resumed["ae_optimizer"]["state"][0]["exp_avg"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_saves_a_checkpoint_that_resumes_bit_identically(toy, tmp_path, monkeypatch, signum):
    from multistyle.core.run import TrainingInterrupted

    real_step, calls = train_module.Trainer.step, []

    def interrupted_step(self, batch, gamma, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signum)  # arrives in the middle of step 3, which still completes
        return real_step(self, batch, gamma, **kwargs)

    config = dataclasses.replace(SMALL, max_steps=5)
    monkeypatch.setattr(train_module.Trainer, "step", interrupted_step)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 3: saved"):
        train(toy, tmp_path / "run", config, show_progress=False)
    assert load_training_state(tmp_path / "run" / "checkpoint")[1]["step"] == 3
    monkeypatch.setattr(train_module.Trainer, "step", real_step)
    figures = train(toy, tmp_path / "run", config, resume=True, show_progress=False)
    train(toy, tmp_path / "straight", config, show_progress=False)
    assert figures["steps"] == 5
    resumed, straight = (load_training_state(tmp_path / run / "checkpoint")[0] for run in ("run", "straight"))
    for part in ("model", "discriminators"):
        for name, tensor in straight[part].items():
            assert torch.equal(resumed[part][name], tensor), f"{part}.{name} differs after resuming"


def test_time_limit_evaluates_checkpoints_and_stops_then_resume_finishes(toy, tmp_path):
    run = tmp_path / "run"
    figures = train(toy, run, dataclasses.replace(SMALL, max_steps=5, max_minutes=1e-9), show_progress=False)
    assert figures["stopped_by_time_limit"] and figures["steps"] == 1
    assert [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()] == [1]
    assert load_training_state(run / "checkpoint")[1]["step"] == 1
    figures = train(toy, run, run_config(run, None, True, max_minutes=0), resume=True, show_progress=False)
    assert not figures["stopped_by_time_limit"] and figures["steps"] == 5


def test_runs_are_not_overwritten_and_resume_keeps_the_architecture(toy, tmp_path):
    train(toy, tmp_path / "run", dataclasses.replace(SMALL, max_steps=1), show_progress=False)
    with pytest.raises(InputError, match="already holds a training run"):
        train(toy, tmp_path / "run", SMALL, show_progress=False)
    with pytest.raises(InputError, match="no checkpoint to resume"):
        train(toy, tmp_path / "fresh", SMALL, resume=True, show_progress=False)
    with pytest.raises(InputError, match="cannot change dim_z"):
        run_config(tmp_path / "run", None, True, dim_z=99)


def test_calibration_keeps_the_smallest_strength_reaching_the_target_and_transfer_defaults_to_it(toy, toy_evaluator, weak_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(weak_model, model)
    result = calibrate(model, toy, toy_evaluator, target_accuracy=80, step=0.5, max_strength=3, show_progress=False)
    sweep = result["sweep"]
    assert sweep[0]["accuracy"] < 80 <= sweep[-1]["accuracy"], "the model as trained misses the target; some strength reaches it"
    assert all(r["accuracy"] < 80 for r in sweep[:-1]) and result["strength"] == sweep[-1]["strength"] > 0
    assert sweep[-1]["self_bleu"] < sweep[0]["self_bleu"], "strength costs content"
    assert json.loads((model / CALIBRATION).read_text())["strength"] == result["strength"]

    trained = load_model(model)
    assert trained.strength == result["strength"]
    neg, _ = read_split(toy, "dev")
    default = transfer_sentences(trained, neg, "positive")
    assert default == transfer_sentences(trained, neg, "positive", strength=result["strength"])
    assert default != transfer_sentences(trained, neg, "positive", strength=0)


def test_calibration_that_cannot_reach_the_target_says_so_and_writes_nothing(cli, toy, toy_evaluator, weak_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(weak_model, model)
    code, _, err = cli("text", "calibrate", "--model", model, "--data", toy, "--evaluator", toy_evaluator,
                       "--accuracy", "99.9", "--step", "0.5", "--max-strength", "0.5", "--quiet")
    assert code == 2 and "no strength up to 0.5 reaches 99.9 % dev accuracy" in err and len(err.strip().splitlines()) == 1
    assert not (model / CALIBRATION).exists()
    for bad in ('"strong"', "NaN", "-1"):
        (model / CALIBRATION).write_text(f'{{"strength": {bad}}}')
        code, _, err = cli("text", "transfer", "--model", model, "--to", "positive", "fine")
        assert code == 2 and "'strength' must be a finite number >= 0" in err, bad


def test_placeholders_take_back_the_source_numbers_and_unknown_words():
    vocab = Vocab([*SPECIALS, "_num_", "the", "tacos", "were", "great"])
    source = split_words("The 12 carnitas tacos were bad, 3 times")
    output = ["the", "_num_", "<unk>", "tacos", "were", "great", "_num_", "<unk>"]
    # aligned, not in order: "great _num_ <unk>" lines up with "bad , 3 times" (tests/test_text_unknown.py)
    assert fill_placeholders(output, source, vocab) == ["the", "12", "carnitas", "tacos", "were", "great", "3", "times"]


def test_cli_transfers_text_and_files(cli, toy_model, tmp_path):
    code, out, err = cli("text", "transfer", "--model", toy_model, "--to", "positive", "The soup was cold at lunch!", "our bread today was bland .")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0][0].isupper()
    source = tmp_path / "in.txt"
    source.write_text("the pizza was great today .\nthe staff was rude at dinner .\n")
    code, out, err = cli("text", "transfer", "--model", toy_model, "--to", "flip", "--beam", "3", "--tokens",
                         "--input", source, "--output", tmp_path / "out.txt")
    assert code == 0, err
    results = (tmp_path / "out.txt").read_text().splitlines()
    assert len(results) == 2 and all(r == r.lower() for r in results)


def test_cli_evaluate_scores_a_model_and_output_files(cli, toy, toy_evaluator, toy_model, tmp_path):
    code, out, err = cli("text", "evaluate", "--data", toy, "--evaluator", toy_evaluator, "--model", toy_model,
                         "--save-outputs", tmp_path / "ours", "--table", tmp_path / "table.md")
    assert code == 0, err
    assert "| model (ours) | 144 / 144 |" in out and "(source copied)" in out
    code, out, err = cli("text", "evaluate", "--data", toy, "--evaluator", toy_evaluator, "--outputs", tmp_path / "ours")
    assert code == 0, err
    ours = next(line for line in out.splitlines() if line.startswith("| ours "))
    assert ours.split("|")[3:5] == next(line for line in (tmp_path / "table.md").read_text().splitlines() if "(ours)" in line).split("|")[3:5]


def test_evaluate_by_direction_scores_each_direction_alone(toy, toy_evaluator, toy_model):
    rows, markdown = evaluate(toy, toy_evaluator, model_dir=toy_model, by_direction=True, device="cpu")
    pooled = rows["model (ours)"].accuracy
    ours = [line.split("|") for line in markdown.splitlines() if line.startswith("| model (ours) | ")]
    directions = [cells[2].strip() for cells in ours[1:]]
    accuracies = [float(cells[3]) for cells in ours[1:]]
    assert directions == ["negative → positive", "positive → negative"]
    assert sum(accuracies) / 2 == pytest.approx(pooled, abs=0.06)  # equal halves: the pooled figure is their mean
    copied = [line for line in markdown.splitlines() if line.startswith("| (source copied) | ") and "→" in line]
    assert len(copied) == 2 and all(float(line.split("|")[3]) < 20 for line in copied)


def test_evaluate_on_the_peers_gives_their_line_counts_and_known_bleu(shared_data, toy_evaluator):
    rows, table = evaluate(shared_data / "yelp", toy_evaluator, peers=True, by_direction=True)
    peers = {p.stem for p in (shared_data / "yelp" / "peers").glob("*.0")}
    assert peers <= set(rows) and len(peers) == 8
    assert all(rows[name].lines == (500, 500) for name in peers)
    assert rows["(source copied)"].self_bleu == pytest.approx(100)
    assert rows["(human rewrites)"].ref_bleu == pytest.approx(100)
    # Li et al. (2018) published these ref-BLEU figures for the same outputs and references
    assert rows["cross_aligned"].ref_bleu == pytest.approx(9.06, abs=0.01)
    assert rows["li2018_multi_decoder"].ref_bleu == pytest.approx(14.54, abs=0.01)
    assert sum(line.startswith("| cross_aligned | ") for line in table.splitlines()) == 3  # pooled, then each direction


def test_transfer_without_a_model_names_the_missing_one_and_how_to_train_it(cli, tmp_path, monkeypatch):
    import multistyle.text.transfer as transfer_module

    for name in transfer_module.SHIPPED_MODELS:
        monkeypatch.setitem(transfer_module.SHIPPED_MODELS, name, tmp_path / "no-model")
    code, _, err = cli("text", "transfer", "--to", "positive", "The food was cold.")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "the style-transformer text model does not ship" in err and "multistyle text train --model style-transformer" in err
    assert "recipes/text_style_transformer.sh" in err
    code, _, err = cli("text", "transfer", "--model", "cross-aligned", "The food was cold.")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "multistyle text train --model cross-aligned" in err
    assert "recipes/text_yelp.sh" in err


@pytest.mark.parametrize("args, message", [
    (["text", "transfer", "--model", "MODEL", "--to", "positive", ""], "text 1 is empty"),
    (["text", "transfer", "--model", "MODEL", "--to", "positive", "fine", "   "], "text 2 is empty"),
    (["text", "transfer", "--model", "MODEL", "--to", "sideways", "fine"], "--to must be one of"),
    (["text", "transfer", "--model", "MODEL", "--to", "positive", "--strength", "-0.5", "fine"], "--strength must be a finite number >= 0"),
    (["text", "calibrate", "--model", "MODEL", "--data", "TOY", "--evaluator", "EVALUATOR", "--accuracy", "150"], "--accuracy must be a percentage"),
    (["text", "transfer", "--model", "MODEL", "--to", "positive", "--input", "BINARY"], "not UTF-8"),
    (["text", "transfer", "--model", "MISMATCHED", "--to", "positive", "fine"], "mixes two models"),
    (["text", "train", "--data", "INCOMPLETE", "--out", "OUT"], "missing sentiment.dev.0"),
    (["text", "evaluate", "--data", "TOY", "--evaluator", "EVALUATOR", "--outputs", "SHORT"], "outputs must be line-aligned"),
])
def test_bad_input_is_one_clear_line(cli, toy, toy_model, toy_evaluator, tmp_path, args, message):
    (tmp_path / "binary.txt").write_bytes(b"caf\xe9\n")
    shutil.copytree(toy_model, tmp_path / "mismatched", ignore=shutil.ignore_patterns("checkpoint"))
    with open(tmp_path / "mismatched" / "vocab.txt", "a") as f:
        f.write("extraword\n")
    shutil.copytree(toy, tmp_path / "incomplete")
    (tmp_path / "incomplete" / "sentiment.dev.0").unlink()
    for label in (0, 1):
        (tmp_path / f"short.{label}").write_text("too short\n")
    names = {"MODEL": toy_model, "BINARY": tmp_path / "binary.txt", "MISMATCHED": tmp_path / "mismatched",
             "INCOMPLETE": tmp_path / "incomplete", "OUT": tmp_path / "out", "TOY": toy, "EVALUATOR": toy_evaluator,
             "SHORT": tmp_path / "short"}
    code, out, err = cli(*[names.get(a, a) for a in args])
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
