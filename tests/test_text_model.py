import itertools

import pytest
import torch
import torch.nn.functional as F

from multistyle.text.config import CrossAlignConfig
from multistyle.text.data import make_batch
from multistyle.text.decode import beam_search, source_words, transfer_candidates, transfer_ids
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.train import Trainer
from multistyle.text.vocab import EOS, GO, PAD

pytestmark = pytest.mark.usefixtures("one_thread")


TINY = CrossAlignConfig(dim_emb=8, dim_y=4, dim_z=12, filter_sizes=(1, 2), n_filters=4, dropout=0.0)


def tiny_model(vocab_size: int = 20, seed: int = 0) -> CrossAlignedAutoencoder:
    torch.manual_seed(seed)
    return CrossAlignedAutoencoder(vocab_size, TINY).eval()


def test_forward_gives_aligned_sequences_and_a_per_sentence_loss():
    model = tiny_model()
    batch = make_batch([[5, 6, 7], [8, 9]], [0, 1])
    reconstruction, real, transferred = model(batch, gamma=0.1)
    assert real.shape == transferred.shape == (2, 5, 16), "h0 then one state per word and <eos>"
    chance = torch.log(torch.tensor(20.0))
    assert 0.7 * 3.5 * chance < reconstruction < 1.3 * 3.5 * chance, "an untrained model pays ~log V per token, 7 tokens / 2 sentences"


def test_encoder_ignores_padding():
    model = tiny_model()
    alone = model.encode(make_batch([[5, 6]], [1]))
    padded = model.encode(make_batch([[5, 6], [7, 8, 9, 10, 11]], [1, 0]))
    assert torch.allclose(alone[0], padded[0], atol=1e-6)


def test_soft_rollout_at_low_temperature_follows_the_greedy_words():
    model = tiny_model()
    h0 = torch.randn(3, 16)
    soft = model.soft_rollout(h0, 6, gamma=1e-4)
    x, h, hard = model.go_vectors(3), h0, []
    for _ in range(6):
        logits, h = model.step(x, h)
        hard.append(h)
        x = model.embedding(logits.argmax(dim=-1))
    assert torch.allclose(soft, torch.stack(hard, dim=1), atol=1e-4)


def sequence_score(model, h0, words):
    """Mean log-probability per token of `words` (+ <eos> unless it fills max_len), as beam search ranks it."""
    x, h, total = model.go_vectors(1), h0.unsqueeze(0), 0.0
    for word in words:
        logits, h = model.step(x, h)
        logits[:, [PAD, GO]] = float("-inf")
        total += F.log_softmax(logits, dim=-1)[0, word].item()
        x = model.embedding(torch.tensor([word]))
    return total / len(words)


@torch.no_grad()
def test_beam_search_is_greedy_at_width_one_and_exhaustive_when_wide_enough():
    model = tiny_model(vocab_size=6)  # candidate words per step: <eos>, <unk>, 4, 5
    h0 = torch.randn(5, 16)
    greedy = beam_search(model, h0, beam=1, max_len=4, block_repeats=False)
    for i in range(5):
        x, h, expected = model.go_vectors(1), h0[i : i + 1], []
        for _ in range(4):
            logits, h = model.step(x, h)
            logits[:, [PAD, GO]] = float("-inf")
            word = int(logits.argmax())
            if word == EOS:
                break
            expected.append(word)
            x = model.embedding(torch.tensor([word]))
        assert greedy[i] == expected

    words = [3, 4, 5]  # with max_len 2, 16 hypotheses in all: a beam of 16 keeps every one
    best = beam_search(model, h0, beam=16, max_len=2, block_repeats=False)
    for i in range(5):
        candidates = [[EOS]] + [[w, EOS] for w in words] + [list(p) for p in itertools.product(words, repeat=2)]
        winner = max(candidates, key=lambda c: sequence_score(model, h0[i], c))
        assert best[i] == [w for w in winner if w != EOS]


@torch.no_grad()
@pytest.mark.parametrize("beam", [1, 3])
def test_decoding_repeats_no_bigram_and_respects_minimum_lengths(beam):
    model = tiny_model(vocab_size=7)  # four real words: left free, a 12-word sentence must loop
    h0 = torch.randn(20, 16)
    model.project.bias.data[EOS] = -10.0  # <eos> unlikely: sentences run long
    free = beam_search(model, h0, beam=beam, max_len=12, block_repeats=False)
    assert any(repeats_a_bigram(s) for s in free), "the check below must be able to fail"
    blocked = beam_search(model, h0, beam=beam, max_len=12)
    assert not any(repeats_a_bigram(s) for s in blocked)

    model.project.bias.data[EOS] = 10.0  # <eos> first everywhere, unless forbidden
    assert all(s == [] for s in beam_search(model, h0, beam=beam, max_len=12))
    minimum = torch.arange(20) % 6
    bounded = beam_search(model, h0, beam=beam, max_len=12, min_lengths=minimum, block_repeats=False)
    assert [len(s) for s in bounded] == minimum.tolist()


def repeats_a_bigram(ids: list[int]) -> bool:
    bigrams = list(zip(ids, ids[1:]))
    return len(bigrams) != len(set(bigrams))


def test_strength_pushes_each_style_vector_away_from_the_other():
    model = tiny_model()
    labels = torch.tensor([0, 1])
    trained = model.generator_style(labels)
    assert torch.equal(model.style_vector(labels), trained)
    pushed = model.style_vector(labels, strength=0.5)
    other = model.generator_style(1 - labels)
    assert torch.allclose((pushed - other).norm(dim=1), 1.5 * (trained - other).norm(dim=1))
    assert torch.allclose(pushed - trained, 0.5 * (trained - other)), "along the line through both styles"


def test_transfer_keeps_the_input_order():
    model = tiny_model()
    sentences = [[5, 6, 7, 8], [9], [10, 11], [12, 13, 14], [15]]
    together = transfer_ids(model, sentences, [0, 1, 0, 1, 0], [1, 0, 1, 0, 1], batch_size=2)
    one_by_one = [transfer_ids(model, [s], [y], [1 - y])[0] for s, y in zip(sentences, [0, 1, 0, 1, 0])]
    assert together == one_by_one


@pytest.mark.parametrize("seed", [0, 1])
def test_discriminators_learn_the_same_whatever_the_autoencoder_objective(seed):
    batch = make_batch([[5, 6, 7], [8, 9, 10], [11, 12], [13, 14]], [0, 0, 1, 1])
    results = []
    for threshold in (0.0, 100.0):  # adversarial term never / always on
        torch.manual_seed(seed)
        trainer = Trainer(20, CrossAlignConfig(**{**TINY.__dict__, "adv_threshold": threshold}), torch.device("cpu"))
        losses = trainer.step(batch, gamma=0.1)
        results.append((losses, [p.clone() for p in trainer.discriminators.parameters()], [p.clone() for p in trainer.model.parameters()]))
    (off, d_off, ae_off), (on, d_on, ae_on) = results
    assert off["adv"] == 0.0 and on["adv"] == 1.0
    assert all(torch.equal(a, b) for a, b in zip(d_off, d_on)), "each player's loss reaches only its own parameters"
    assert any(not torch.equal(a, b) for a, b in zip(ae_off, ae_on)), "the adversarial term moves the autoencoder"


def test_warm_up_trains_the_autoencoder_on_reconstruction_alone():
    batch = make_batch([[5, 6, 7], [8, 9, 10], [11, 12], [13, 14]], [0, 0, 1, 1])
    results = []
    for threshold, warm_up in ((0.0, False), (100.0, True)):  # adversarial term off by threshold / by warm-up
        torch.manual_seed(0)
        trainer = Trainer(20, CrossAlignConfig(**{**TINY.__dict__, "adv_threshold": threshold}), torch.device("cpu"))
        results.append((trainer.step(batch, gamma=0.1, warm_up=warm_up), [p.clone() for p in trainer.model.parameters()]))
    (off, ae_off), (warm, ae_warm) = results
    assert off["adv"] == warm["adv"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(ae_off, ae_warm))


@pytest.mark.parametrize("cap", [0.05, 0.1, 10.0])
def test_capped_adversarial_gradient_is_at_most_cap_times_the_reconstruction_gradient(cap):
    batch = make_batch([[5, 6, 7], [8, 9, 10], [11, 12], [13, 14]], [0, 0, 1, 1])
    torch.manual_seed(0)
    trainer = Trainer(20, CrossAlignConfig(**{**TINY.__dict__, "dropout": 0.0, "adv_grad_cap": cap}), torch.device("cpu"))
    params = list(trainer.model.parameters())

    def losses():
        reconstruction, real, transferred = trainer.model(batch, gamma=0.01)
        return reconstruction, trainer.adversarial_losses(real, transferred, batch.labels)[1]

    reconstruction, g_loss = losses()
    rec_grads = torch.autograd.grad(reconstruction, params, retain_graph=True, allow_unused=True)
    adv_grads = torch.autograd.grad(g_loss, params, allow_unused=True)
    flat = lambda grads: torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for p, g in zip(params, grads)])
    rec, adv = flat(rec_grads), flat(adv_grads)
    trainer.backward_capped(*losses(), params)
    added = torch.cat([p.grad.flatten() for p in params]) - rec
    if adv.norm() > cap * rec.norm():  # the cap binds
        assert added.norm() == pytest.approx(cap * rec.norm().item(), rel=1e-4)
        assert F.cosine_similarity(added, adv, dim=0) > 0.9999
    else:
        assert torch.allclose(added, adv, atol=1e-6), "under the cap the adversarial gradient passes unchanged (rho = 1)"


@torch.no_grad()
@pytest.mark.parametrize("beam", [1, 3])
def test_a_large_copy_bonus_writes_each_source_word_once_before_anything_else(beam):
    model = tiny_model(vocab_size=30)
    sources = [[5, 9, 17, 22], [8, 8, 13]]  # a word the source has twice earns the bonus twice
    h0 = torch.randn(2, 16)
    plain = beam_search(model, h0, beam=beam, max_len=6, block_repeats=False)
    assert any(sorted(p[: len(s)]) != sorted(s) for p, s in zip(plain, sources)), "the check below must be able to fail"
    copied = beam_search(model, h0, beam=beam, max_len=6, min_lengths=torch.tensor([4, 3]), block_repeats=False,
                         source=source_words(sources, h0.device), copy_bonus=torch.tensor([100.0, 100.0]))
    assert [sorted(c[: len(s)]) for c, s in zip(copied, sources)] == [sorted(s) for s in sources]
    assert all(w not in s for c, s in zip(copied, sources) for w in c[len(s):]), "a used word earns no more bonus"


def test_candidates_decoded_together_match_each_setting_decoded_alone():
    model = tiny_model()
    sentences = [[5, 6, 7, 8], [9], [10, 11, 10], [12, 13, 14], [15]]
    sources, targets = [0, 1, 0, 1, 0], [1, 0, 1, 0, 1]
    settings = [(0.0, 0.0), (0.5, 0.0), (0.5, 2.0), (1.0, 0.0), (0.5, 4.0), (1.5, 4.0)]  # strength 0.5: twins
    together = transfer_candidates(model, sentences, sources, targets, settings, batch_size=2)
    for k, setting in enumerate(settings):
        alone = transfer_candidates(model, sentences, sources, targets, [setting])
        assert [row[k] for row in together] == [row[0] for row in alone]
    assert len({tuple(map(tuple, (row[k] for row in together))) for k in range(len(settings))}) > 1, "settings differ"
