"""Candidate selection (multistyle.text.selector) and the surface of raw sentences (multistyle.text.surface)."""
import dataclasses
from pathlib import Path

import pytest
import torch

from multistyle.errors import InputError, WeightsError
from multistyle.text.config import SelectorConfig
from multistyle.text.selector import (
    GruLanguageModel,
    NgramClassifier,
    Selector,
    content_overlap,
    load_selector,
    save_selector,
    train_selector,
)
from multistyle.text.surface import in_style, prepare, render
from multistyle.text.toy import write_toy_corpus
from multistyle.text.vocab import Vocab

TOY_SELECTOR = SelectorConfig(buckets=512, classifier_epochs=3, classifier_lr=0.05, lm_dim_emb=16, lm_dim_h=32, lm_epochs=3,
                              lr=5e-3, batch_size=32, device="cpu")


def test_content_overlap_is_one_for_a_copy_zero_for_nothing_shared_and_ordered_between():
    source = [5, 6, 7, 8, 9]
    assert content_overlap(source, source) == pytest.approx(1.0)
    assert content_overlap([10, 11, 12], source) == 0.0
    one_word_changed = content_overlap([5, 6, 10, 8, 9], source)
    shuffled = content_overlap([9, 7, 5, 8, 6], source)  # every word kept, no bigram
    assert 0 < shuffled < one_word_changed < 1


def hand_made_selector(vocab_size: int, **config) -> Selector:
    """Word 5 reads positive, word 6 negative; no bigram weights; a language model that prefers nothing."""
    classifier = NgramClassifier(vocab_size, 64)
    classifier.words.weight.data[5] = 8.0
    classifier.words.weight.data[6] = -8.0
    return Selector(classifier, GruLanguageModel(vocab_size, 4, 4), SelectorConfig(**{"fluency_weight": 0.0, **config}))


def test_candidates_take_a_copy_penalty_but_no_negative_strength():
    SelectorConfig(candidates=((0.0, -2.0), (1.0, 4.0))).validate()
    for bad in (((-0.5, 0.0),), ((1.0, float("nan")),), ((1.0,),), ()):
        with pytest.raises(InputError, match="candidates"):
            SelectorConfig(candidates=bad).validate()


def test_selection_keeps_the_accepted_candidate_closest_to_the_source():
    selector = hand_made_selector(20)
    source = [7, 8, 9, 6, 10]  # "negative": word 6
    candidates = [
        [7, 8, 9, 6, 10],  # unchanged: rejected, reads negative
        [11, 5, 12],  # positive but keeps nothing
        [7, 8, 9, 5, 10],  # positive, one word changed: the one to keep
        [7, 5, 10],
    ]
    assert selector.choose([source], [candidates], [1]) == [2]
    assert selector.choose([source], [candidates[:2]], [1]) == [1]
    # When no candidate reads as the target, the likeliest one wins; for the other target, the closest accepted.
    assert selector.choose([source], [[candidates[0], [7, 8, 9, 10]]], [1]) == [1]
    assert selector.choose([source], [candidates], [0]) == [0]


def test_fluency_weight_prefers_what_the_language_model_likes():
    selector = hand_made_selector(20, fluency_weight=100.0)
    torch.manual_seed(0)
    source = [7, 8, 9, 6, 10]
    candidates = [[7, 8, 9, 5, 10], [5, 13, 14, 15]]
    fluent = max(range(2), key=lambda k: selector.fluency(candidates)[k])
    assert selector.choose([source], [candidates], [1]) == [fluent]
    assert dataclasses.replace(selector, config=SelectorConfig(fluency_weight=0.0)).choose([source], [candidates], [1]) == [0]


@pytest.fixture(scope="module")
def toy_selector(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("selector")
    corpus = write_toy_corpus(folder / "corpus")
    model = folder / "model"
    model.mkdir()
    words = sorted({w for split in ("train", "dev", "test") for label in (0, 1)
                    for line in (corpus / f"sentiment.{split}.{label}").read_text().splitlines() for w in line.split()})
    Vocab(["<pad>", "<go>", "<eos>", "<unk>", *words]).save(model / "vocab.txt")
    return corpus, model


def test_training_the_selector_learns_the_styles_and_the_language(toy_selector):
    corpus, model = toy_selector
    torch.manual_seed(0)
    vocab = Vocab.load(model / "vocab.txt")
    untrained = Selector(NgramClassifier(len(vocab), TOY_SELECTOR.buckets),
                         GruLanguageModel(len(vocab), TOY_SELECTOR.lm_dim_emb, TOY_SELECTOR.lm_dim_h), TOY_SELECTOR)
    sentence = vocab.encode("the soup was delicious today .".split())
    scrambled = vocab.encode(". today delicious was soup the".split())
    before = untrained.fluency([sentence])[0]

    figures = train_selector(model, corpus, TOY_SELECTOR)
    assert figures["classifier_dev_accuracy"] >= 95
    selector = load_selector(model, len(vocab))
    assert selector.target_probability([sentence], [1])[0] > 0.9
    assert selector.target_probability([vocab.encode("the soup was awful today .".split())], [0])[0] > 0.8
    fluent, jumbled = selector.fluency([sentence, scrambled])
    assert fluent > before + 1.0, "training raised the sentence's log-likelihood per token"
    assert fluent > jumbled + 1.0


def test_a_selector_from_another_vocabulary_is_refused(toy_selector, tmp_path):
    _, model = toy_selector
    vocab_size = len(Vocab.load(model / "vocab.txt"))
    save_selector(tmp_path, hand_made_selector(vocab_size + 3, buckets=64), {})
    with pytest.raises(WeightsError, match="does not fit"):
        load_selector(tmp_path, vocab_size)
    assert load_selector(tmp_path / "nothing", vocab_size) is None


@pytest.mark.parametrize(
    "raw, tokens, rendered",
    [
        ("great pizza, friendly staff", "great pizza , friendly staff .", "great pizza, friendly staff"),
        ("Best tacos in town!!!", "best tacos in town ! ! !", "Best tacos in town!!!"),
        ("I LOVED IT", "i loved it .", "I LOVED IT"),
        ("We ate at Giordano's and NYC Pizza.", "we ate at giordano 's and nyc pizza .", "We ate at Giordano's and NYC Pizza."),
        ("Worst service ever 😡", "worst service ever .", "Worst service ever 😡"),
        ("😀 love it :)", "love it .", "😀 love it :)"),
        ("The 2 tacos cost $8.50 👍 and were good.", "the 2 tacos cost $ 8.50 and were good .", "The 2 tacos cost $8.50 👍 and were good."),
    ],
)
def test_raw_sentences_come_back_written_as_they_were(raw, tokens, rendered):
    prepared, surface = prepare(raw)
    assert " ".join(prepared) == tokens
    assert render(prepared, surface) == rendered


def test_rewrites_take_the_inputs_casing_ending_and_emoji_places():
    tokens, surface = prepare("the staff at Luigi's was rude 😡")
    assert render("the staff at luigi 's was friendly .".split(), surface, "positive") == "the staff at Luigi's was friendly 😊"
    tokens, surface = prepare("Luigi's staff was rude 😡 and slow.")
    assert render("luigi 's staff was friendly and fast .".split(), surface, "positive") == "Luigi's staff was friendly 😊 and fast."
    assert render("our staff was friendly .".split(), surface, "positive") == "Our staff was friendly 😊."  # at its place
    tokens, surface = prepare("SO GOOD")
    assert render("so bad .".split(), surface, "negative") == "SO BAD"


def test_emoji_with_the_opposite_sentiment_are_swapped_and_others_kept():
    assert in_style("😡😡", "positive") == "😊😊"
    assert in_style(":)", "negative") == ":("
    assert in_style("👍", "negative") == "👎"
    assert in_style("😡", "negative") == "😡"
    assert in_style("🍕", "negative") == "🍕"
    assert in_style(":)", None) == ":)"
