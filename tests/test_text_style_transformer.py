"""The Style Transformer (Dai et al. 2019): its decoding, training, resuming and use through TextTransfer and the CLI,
with tiny models on the toy corpus."""
import dataclasses
import json

import pytest
import torch

from multistyle.core.checkpoint import load_training_state
from multistyle.errors import InputError, WeightsError
from multistyle.text.bundle import load_model
from multistyle.text.config import CrossAlignConfig, StyleTransformerConfig
from multistyle.text.data import make_batch
from multistyle.text.decode import transfer_candidates
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.selector import GruLanguageModel
from multistyle.text.style_transformer import StyleDiscriminator, StyleTransformer, lengths_until_eos
from multistyle.text.toy import write_toy_corpus
from multistyle.text.train_style_transformer import run_config, train
from multistyle.text.transfer import TextTransfer
from multistyle.text.vocab import EOS, GO, UNK

TINY = StyleTransformerConfig(
    max_len=12, min_count=1, d_model=32, heads=2, layers=1, ff=64, discriminator_layers=1, batch_size=16, lr=3e-3,
    pretrain_steps=40, max_steps=60, checkpoint_every=20, eval_every=30, dev_sentences=20, device="cpu",
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_corpus(tmp_path_factory.mktemp("toy") / "corpus")


@pytest.fixture(scope="module")
def tiny_run(toy, tmp_path_factory):
    folder = tmp_path_factory.mktemp("st") / "run"
    figures = train(toy, folder, TINY, show_progress=False)
    return folder, figures


def random_model(config: StyleTransformerConfig = TINY, vocab_size: int = 50) -> StyleTransformer:
    torch.manual_seed(0)
    return StyleTransformer(vocab_size, config).eval()


def test_word_by_word_decoding_with_caches_matches_the_teacher_forced_pass():
    model = random_model()
    words = torch.randint(4, 50, (3, 7))
    lengths = torch.tensor([7, 5, 2])
    encoded = model.encode(words, lengths, torch.tensor([0, 1, 0]))
    decoder_input = torch.cat([torch.full((3, 1), GO), words], dim=1)
    teacher = model.teacher_forced(encoded, decoder_input)
    caches = [{} for _ in model.decoder]
    for t in range(decoder_input.shape[1]):
        step = model.step(encoded, model.embedding(decoder_input[:, t]), t, caches)
        assert torch.allclose(step, teacher[:, t], atol=1e-5), f"position {t}"


def test_one_hot_soft_words_read_as_their_ids_and_padding_is_ignored():
    model = random_model()
    words = torch.randint(4, 50, (2, 6))
    labels = torch.tensor([1, 0])
    hard = model.encode(words, torch.tensor([6, 4]), labels)
    soft = model.encode(torch.nn.functional.one_hot(words, 50).float(), torch.tensor([6, 4]), labels)
    changed = words.clone()
    changed[1, 4:] = 7  # beyond the second sentence's length
    padded = model.encode(changed, torch.tensor([6, 4]), labels)
    probe = torch.cat([torch.full((2, 1), GO), words[:, :3]], dim=1)
    logits = [model.teacher_forced(e, probe) for e in (hard, soft, padded)]
    assert torch.allclose(logits[0], logits[1], atol=1e-5)
    assert torch.allclose(logits[0][1], logits[2][1], atol=1e-5)
    assert not torch.allclose(logits[0][0], model.teacher_forced(model.encode(words, torch.tensor([6, 4]), 1 - labels), probe)[0])


def test_lengths_count_the_words_before_the_first_eos():
    words = torch.tensor([[5, 6, EOS, 7, EOS], [5, 5, 5, 5, 5], [EOS, 4, 4, 4, 4]])
    assert lengths_until_eos(words).tolist() == [2, 5, 1]


def test_greedy_candidates_keep_the_decoding_rules():
    model = random_model()
    sentences = [[5, 6, UNK, 7], [8, 9, 10, 11, 12, 13]]
    rows = transfer_candidates(model, sentences, [0, 1], [1, 0], [(0.0, 0.0), (0.5, 0.0), (0.0, 100.0), (0.0, -100.0)],
                               max_len=12)
    for sentence, candidates in zip(sentences, rows):
        for ids in candidates:
            assert len(ids) >= (len(sentence) + 1) // 2, "no output ends before half its source"
            assert ids.count(UNK) <= sentence.count(UNK), "no more <unk> than the source has"
            bigrams = list(zip(ids, ids[1:]))
            assert len(bigrams) == len(set(bigrams)), "no bigram twice"
        assert sorted(candidates[2][: len(set(sentence))]) == sorted(set(sentence)), "a huge copy bonus writes the source words first"
        assert not set(candidates[3]) & set(sentence) - {UNK}, "a huge copy penalty writes none of them"
    with pytest.raises(InputError, match="greedily"):
        transfer_candidates(model, sentences, [0, 1], [1, 0], [(0.0, 0.0)], beam=2)


def test_a_sentence_ends_where_the_model_writes_a_final_mark():
    model, sentences, marks = random_model(), [[5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17]], set(range(20, 50))
    plain = transfer_candidates(model, sentences, [0, 1], [1, 0], [(0.0, 0.0)], max_len=12)
    assert any(set(row[0][:-1]) & marks for row in plain), "unclosed, the random model writes on after a mark"
    for row in transfer_candidates(model, sentences, [0, 1], [1, 0], [(0.0, 0.0)], max_len=12, ends=sorted(marks)):
        assert not set(row[0][:-1]) & marks, row[0]


def test_a_language_model_weighed_into_decoding_takes_over_as_its_weight_grows():
    model, lm = random_model(), GruLanguageModel(50, 8, 16)
    sentences = [[5, 6, 7, 8], [9, 10, 11, 12, 13]]
    plain, _, lm_only = zip(*transfer_candidates(model, sentences, [0, 1], [1, 0], [(0.0, 0.0), (0.0, 0.0, 1.0),
                                                                                       (0.0, 0.0, 1e4)], lm=lm, max_len=12))
    _, _, other_style = zip(*transfer_candidates(model, sentences, [0, 1], [0, 1], [(0.0, 0.0), (0.0, 0.0, 1.0),
                                                                                    (0.0, 0.0, 1e4)], lm=lm, max_len=12))
    assert lm_only == other_style, "with an overwhelming weight the language model writes, whatever the style"
    assert plain != lm_only
    with pytest.raises(InputError, match="language model"):
        transfer_candidates(model, sentences, [0, 1], [1, 0], [(0.0, 0.0, 1.0)])
    autoencoder = CrossAlignedAutoencoder(50, dataclasses.replace(CrossAlignConfig(), dim_emb=8, dim_y=4, dim_z=8))
    with pytest.raises(InputError, match="Style Transformer's"):
        transfer_candidates(autoencoder, sentences, [0, 1], [1, 0], [(0.0, 0.0, 1.0)], lm=lm)


@pytest.mark.parametrize("kind", ["multi", "conditional"])
def test_both_discriminators_take_ids_and_soft_words(kind):
    config = dataclasses.replace(TINY, discriminator=kind)
    d = StyleDiscriminator(50, config)
    words, lengths, styles = torch.randint(4, 50, (4, 5)), torch.tensor([5, 3, 2, 5]), torch.tensor([0, 1, 1, 0])
    for given in (words, torch.softmax(torch.randn(4, 5, 50), dim=-1)):
        logits = d(given, lengths, styles)
        assert logits.shape == (4, 2 if kind == "conditional" else 3)
    assert d.labels(styles, real=True).tolist() == ([1, 1, 1, 1] if kind == "conditional" else [1, 2, 2, 1])
    assert d.labels(styles, real=False).tolist() == [0, 0, 0, 0]


def test_training_learns_to_reconstruct_logs_and_transfers_through_the_api(tiny_run):
    folder, figures = tiny_run
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [30, 60]
    assert log[-1]["train"]["cycle"] > 0 and "d" in log[-1]["train"], "past pretraining both players learn"
    assert figures["steps"] == 60 and figures["method"].startswith("Style Transformer")
    trained = load_model(folder)
    assert isinstance(trained.model, StyleTransformer)
    batch = make_batch([trained.vocab.encode("the food was bland today .".split())], [0])
    untrained = StyleTransformer(len(trained.vocab), TINY).eval()
    assert trained.model.reconstruction_nll(batch).item() < 0.6 * untrained.reconstruction_nll(batch).item(), "it learned to copy"
    result = TextTransfer.from_pretrained(folder)(["the soup was so cold at dinner .", "our zyzzyva was great !"], to="flip")
    assert len(result) == 2 and all(result.texts)
    assert "<unk>" not in " ".join(result.texts)


def test_resume_reproduces_the_next_steps_exactly(toy, tmp_path):
    short = dataclasses.replace(TINY, pretrain_steps=2, max_steps=4, eval_every=100)
    train(toy, tmp_path / "straight", short, show_progress=False)
    train(toy, tmp_path / "resumed", dataclasses.replace(short, max_steps=3), show_progress=False)
    train(toy, tmp_path / "resumed", run_config(tmp_path / "resumed", None, True, max_steps=4), resume=True, show_progress=False)
    (straight, info), (resumed, resumed_info) = (load_training_state(tmp_path / run / "checkpoint") for run in ("straight", "resumed"))
    assert info["step"] == resumed_info["step"] == 4
    for part in ("model", "discriminator"):
        for name, tensor in straight[part].items():
            assert torch.equal(tensor, resumed[part][name]), f"{part}.{name} differs after resuming"


def test_a_folder_mixing_models_or_an_unknown_model_is_refused(tiny_run, tmp_path):
    folder, _ = tiny_run
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("vocab.txt", "model.safetensors"):
        (broken / name).write_bytes((folder / name).read_bytes())
    config = json.loads((folder / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps({**config, "model": "gpt-7"}))
    with pytest.raises(WeightsError, match="unknown model 'gpt-7'"):
        load_model(broken)
    (broken / "config.json").write_text(json.dumps({**config, "layers": 2}))
    with pytest.raises(WeightsError, match="does not fit"):
        load_model(broken)


def test_cli_trains_resumes_and_refuses_mistakes(cli, toy, tmp_path):
    out = tmp_path / "run"
    small = ["--set", "d_model=16", "--set", "heads=2", "--set", "layers=1", "--set", "ff=32", "--set", "discriminator_layers=1",
             "--set", "batch_size=8", "--set", "min_count=1", "--set", "pretrain_steps=1", "--set", "eval_every=2",
             "--set", "dev_sentences=4"]
    code, out_text, err = cli("text", "train", "--model", "style-transformer", "--data", toy, "--out", out, *small,
                              "--max-steps", "2", "--quiet")
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["model"] == "style-transformer"
    for args, message in [
        (["--model", "style-transformer", "--resume", "--max-steps", "3", "--epochs", "2"], "use --max-steps, not --epochs"),
        (["--resume", "--max-steps", "3"], "resume it with --model style-transformer"),
        (["--model", "bert", "--max-steps", "3"], "--model must be one of cross-aligned, style-transformer"),
        (["--model", "style-transformer", "--resume", "--set", "layers=2"], "cannot change layers"),
    ]:
        code, _, err = cli("text", "train", "--data", toy, "--out", out, *args, "--quiet")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    code, out_text, err = cli("text", "train", "--model", "style-transformer", "--data", toy, "--out", out, "--resume",
                              "--max-steps", "3", "--quiet")
    assert code == 0 and "3 steps" in out_text, err


def test_ctrl_c_during_an_evaluated_step_keeps_its_evaluation_and_resumes(toy, tmp_path, monkeypatch):
    import os
    import signal

    from multistyle.core.run import TrainingInterrupted
    from multistyle.text import train_style_transformer as module

    real_step, calls = module.Trainer.f_step, []

    def interrupted(self, batch, pretraining):
        calls.append(1)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGINT)  # during step 4, whose dev evaluation must still happen
        return real_step(self, batch, pretraining)

    config = dataclasses.replace(TINY, pretrain_steps=2, max_steps=6, eval_every=4)
    monkeypatch.setattr(module.Trainer, "f_step", interrupted)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 4"):
        train(toy, tmp_path / "run", config, show_progress=False)
    assert [json.loads(line)["step"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()] == [4]
    monkeypatch.setattr(module.Trainer, "f_step", real_step)
    figures = train(toy, tmp_path / "run", run_config(tmp_path / "run", None, True), resume=True, show_progress=False)
    assert figures["steps"] == 6 and figures["best"]["step"] == 6, "without a classifier the latest evaluation is kept"
