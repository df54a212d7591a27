"""The SentencePiece vocabulary: words outside the corpus are spelled, not lost, and a subword model trains and transfers."""
import dataclasses
import json

import pytest
from test_text_training import TOY_MODEL

from multistyle.errors import InputError, WeightsError
from multistyle.text.bundle import load_model
from multistyle.text.data import read_split
from multistyle.text.toy import write_toy_corpus
from multistyle.text.train import train
from multistyle.text.transfer import transfer_sentences
from multistyle.text.vocab import SPECIALS, UNK, SubwordVocab, Vocab, load_vocab, save_vocab

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_corpus(tmp_path_factory.mktemp("toy") / "corpus")


@pytest.fixture(scope="module")
def pieces(toy):
    neg, pos = read_split(toy, "train")
    return SubwordVocab.train(neg + pos, 120)


def test_a_word_outside_the_corpus_is_spelled_in_pieces_and_comes_back(pieces):
    sentence = "the pizzeria was friendly at _num_ !".split()
    ids = pieces.encode(sentence)
    assert tuple(pieces.words[:4]) == SPECIALS
    assert UNK not in ids and len(ids) > len(sentence), "pizzeria is spelled with several pieces"
    assert pieces.decode([*ids, 2, 9, 9]) == sentence, "decoding stops at <eos> and restores the words"
    assert "pizzeria" in pieces and "<unk>" not in pieces


def test_a_literal_unknown_token_stays_one_id_where_it_was(pieces):
    ids = pieces.encode("the <unk> was great".split())
    assert ids.count(UNK) == 1 and pieces.decode(ids) == "the <unk> was great".split()


def test_a_folder_keeps_whichever_vocabulary_it_was_given(pieces, tmp_path):
    (tmp_path / "sub").mkdir()
    save_vocab(tmp_path / "sub", pieces)
    assert isinstance(load_vocab(tmp_path / "sub"), SubwordVocab)
    assert load_vocab(tmp_path / "sub").encode(["friendly"]) == pieces.encode(["friendly"])
    (tmp_path / "words").mkdir()
    save_vocab(tmp_path / "words", Vocab([*SPECIALS, "good"]))
    assert isinstance(load_vocab(tmp_path / "words"), Vocab)


def test_a_corrupt_subword_model_is_refused_in_one_line(tmp_path):
    (tmp_path / SubwordVocab.FILE).write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a SentencePiece model"):
        load_vocab(tmp_path)


def test_a_subword_model_trains_loads_and_transfers(toy, tmp_path):
    config = dataclasses.replace(TOY_MODEL, subword_vocab=120, max_len=40, epochs=3)
    train(toy, tmp_path / "model", config, show_progress=False)
    records = [json.loads(line) for line in (tmp_path / "model" / "log.jsonl").read_text().splitlines()]
    assert records[-1]["dev"]["rec"] < 0.6 * records[0]["train"]["rec"], "held-out sentences rebuild better than epoch 1 trained"
    trained = load_model(tmp_path / "model")
    assert isinstance(trained.vocab, SubwordVocab) and not (tmp_path / "model" / "vocab.txt").exists()
    neg, _ = read_split(toy, "test")
    assert all(transfer_sentences(trained, neg, "positive", strength=1.0)), "every sentence comes back non-empty"
    (tmp_path / "model" / SubwordVocab.FILE).unlink()
    with pytest.raises(WeightsError, match="missing vocab.txt"):
        load_model(tmp_path / "model")
