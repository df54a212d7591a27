import logging

import pytest
import torch

from multistyle.errors import InputError
from multistyle.text.data import make_batch, read_references, read_split, training_batches
from multistyle.text.toy import write_toy_corpus
from multistyle.text.vocab import EOS, GO, PAD, SPECIALS, UNK, Vocab


@pytest.fixture
def corpus(tmp_path):
    return write_toy_corpus(tmp_path / "toy")


def test_read_split_gives_both_styles(corpus):
    neg, pos = read_split(corpus, "train")
    assert len(neg) == len(pos) == 1152
    assert all(s[-1] in (".", "!") for s in neg + pos)
    assert not {w for s in neg for w in s} & {"great", "delicious"}


def test_missing_split_and_folder_are_user_errors(corpus, tmp_path):
    (corpus / "sentiment.dev.1").unlink()
    with pytest.raises(InputError, match=r"missing sentiment\.dev\.1"):
        read_split(corpus, "dev")
    with pytest.raises(InputError, match="data folder not found"):
        read_split(tmp_path / "nowhere", "train")


def test_non_utf8_file_is_a_user_error_with_its_line(corpus):
    (corpus / "sentiment.test.0").write_bytes(b"fine line\nbad \xff byte\n")
    with pytest.raises(InputError, match=r"sentiment\.test\.0: not UTF-8 text \(line 2\)"):
        read_split(corpus, "test")


def test_empty_lines_skipped_and_long_lines_truncated_with_warnings(corpus, caplog):
    (corpus / "sentiment.dev.0").write_text("one two three\n\n   \n" + " ".join(["word"] * 30) + "\n")
    with caplog.at_level(logging.WARNING):
        neg, _ = read_split(corpus, "dev", max_len=20)
    assert neg == [["one", "two", "three"], ["word"] * 20]
    assert "skipped 2 empty lines" in caplog.text
    assert "truncated 1 sentence longer than 20 tokens" in caplog.text


def test_references_are_the_normalised_rewrites(tmp_path):
    (tmp_path / "reference.0").write_text("the food was bad .\tThe food wasn't bad!\n")
    (tmp_path / "reference.1").write_text("good .\tBad.\n")
    assert read_references(tmp_path) == ([["the", "food", "was", "n't", "bad", "!"]], [["bad", "."]])
    (tmp_path / "reference.1").write_text("no tab here\n")
    with pytest.raises(InputError, match="line 1 is not"):
        read_references(tmp_path)
    assert read_references(tmp_path / "absent") is None


def test_vocab_keeps_frequent_words_and_maps_the_rest_to_unk(tmp_path):
    vocab = Vocab.build([["a", "b", "a"], ["a", "c", "b"]], min_count=2)
    assert vocab.words == [*SPECIALS, "a", "b"]
    assert vocab.encode(["a", "zebra", "b"]) == [4, UNK, 5]
    assert vocab.decode([4, UNK, 5, EOS, 4]) == ["a", "<unk>", "b"]
    vocab.save(tmp_path / "vocab.txt")
    assert Vocab.load(tmp_path / "vocab.txt").words == vocab.words
    (tmp_path / "bad.txt").write_text("hello\nworld\n")
    with pytest.raises(InputError, match="must start with"):
        Vocab.load(tmp_path / "bad.txt")


def test_batch_layout():
    batch = make_batch([[5, 6, 7], [8]], [0, 1])
    assert batch.encoder_input.tolist() == [[7, 6, 5], [8, PAD, PAD]]
    assert batch.decoder_input.tolist() == [[GO, 5, 6, 7], [GO, 8, PAD, PAD]]
    assert batch.target.tolist() == [[5, 6, 7, EOS], [8, EOS, PAD, PAD]]
    assert batch.lengths.tolist() == [3, 1] and batch.labels.tolist() == [0, 1]


def test_training_batches_are_balanced_length_bucketed_and_seeded():
    neg = [[4] * (1 + i % 5) for i in range(200)]
    pos = [[5] * (1 + i % 5) for i in range(300)]
    batches = training_batches(neg, pos, 8, seed=1)
    assert len(batches) == 38
    for batch in batches:
        half = len(batch) // 2
        assert batch.labels.tolist() == [0] * half + [1] * half
        neg_lengths = batch.lengths[:half]
        assert neg_lengths.max() - neg_lengths.min() <= 1, "each style's sentences are bucketed by length"
    assert sum(int((b.labels == 1).sum()) for b in batches) == 300, "the larger style is seen exactly once"
    assert sum(int((b.labels == 0).sum()) for b in batches) == 300, "the smaller one is oversampled to match"
    again = training_batches(neg, pos, 8, seed=1)
    assert all(torch.equal(a.decoder_input, b.decoder_input) for a, b in zip(batches, again))
    other = training_batches(neg, pos, 8, seed=2)
    assert any(not torch.equal(a.decoder_input, b.decoder_input) for a, b in zip(batches, other))
