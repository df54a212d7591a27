"""Whole reviews: text past the model's length, or holding several sentences, is rewritten in pieces and rejoined
(multistyle.text.pieces)."""
import pytest
import torch

from multistyle.text.bundle import WEIGHTS
from multistyle.text.pieces import CLAUSE_MARKS, FINAL, Piece, join_rewrites, split_pieces, split_sentence_runs
from multistyle.text.tokenize import normalize
from multistyle.text.transfer import SHIPPED_MODEL, TextTransfer

shipped = pytest.mark.skipif(not (SHIPPED_MODEL / WEIGHTS).is_file(), reason="no shipped text model")

PARAGRAPH = ("the food was cold . the staff was rude and slow . we waited an hour for a table ! "
             "the bill was wrong ... i will never come back .")
LONG = ("we came here for my sister 's birthday on a friday night and the hostess was friendly , the pasta was fresh "
        "and perfectly cooked , and the tiramisu was the best i have had in years , so we will be back with friends .")


def test_a_short_sentence_is_one_piece():
    tokens = normalize("the food was cold and the staff was rude .")
    assert split_pieces(tokens, 20) == [Piece(tokens)]
    assert split_pieces(["um", "..."], 20) == [Piece(["um", "..."])]


def test_sentences_are_cut_after_their_final_punctuation_and_quotes():
    assert [" ".join(s) for s in split_sentence_runs(PARAGRAPH.split())] == [
        "the food was cold .", "the staff was rude and slow .", "we waited an hour for a table !", "the bill was wrong ...",
        "i will never come back ."]
    assert split_sentence_runs("he said `` wow ! '' and left . ! !".split()) == [
        ["he", "said", "``", "wow", "!", "''"], ["and", "left", ".", "!", "!"]]
    assert split_sentence_runs("! ! great place .".split()) == [["!", "!", "great", "place", "."]]  # no wordless piece


@pytest.mark.parametrize("max_len", [8, 12, 20])
def test_a_long_sentence_is_cut_at_clause_boundaries_within_the_length(max_len):
    tokens = LONG.split()
    pieces = split_pieces(tokens, max_len)
    assert len(pieces) >= 2 and all(len(p.tokens) <= max_len for p in pieces)
    assert all(p.tokens[-1] in FINAL for p in pieces), "every piece reads like a corpus sentence"
    assert [p.ends_sentence for p in pieces] == [False] * (len(pieces) - 1) + [True]
    # the model's input is the source again once each clause's period gives way to its own mark
    assert join_rewrites(pieces, [p.tokens for p in pieces]) == tokens
    if max_len == 20:  # cut at the commas, not in the middle of a clause
        assert [p.clause_mark for p in pieces[:-1]] == [","] * (len(pieces) - 1)


def test_a_clause_without_boundaries_is_cut_in_the_middle():
    tokens = [f"w{i}" for i in range(30)] + ["."]
    pieces = split_pieces(tokens, 20)
    assert [len(p.tokens) for p in pieces] == [16, 16] and join_rewrites(pieces, [p.tokens for p in pieces]) == tokens


def test_rewrites_are_joined_with_their_marks_and_final_punctuation():
    pieces = split_pieces("the soup was cold , and the bread was stale . the staff was rude".split() + ["!"], 8)
    rewrites = [["the", "soup", "was", "hot", "!"], ["and", "the", "bread", "was", "fresh", "."], ["the", "staff", "was", "kind"]]
    assert [p.clause_mark for p in pieces] == [",", None, None]
    assert join_rewrites(pieces, rewrites) == (
        "the soup was hot , and the bread was fresh . the staff was kind !".split())
    assert not set(join_rewrites(pieces, rewrites)[:4]) & (FINAL | CLAUSE_MARKS)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return TextTransfer.from_pretrained(device="cpu")


def sentence_count(text: str) -> int:
    return len(split_sentence_runs(normalize(text)))


@shipped
def test_a_paragraph_of_five_sentences_comes_back_as_five(model):
    capitalised = ". ".join(s.strip(" .!").capitalize() for s in PARAGRAPH.replace("!", ".").replace("...", ".").split(" . ")) + "."
    for text in (PARAGRAPH, capitalised):
        assert sentence_count(text) == 5
        output = model(text, to="positive").text
        assert sentence_count(output) == 5, (text, output)
        assert "<unk>" not in output


@shipped
def test_a_long_review_sentence_is_rewritten_whole_not_cut(model):
    tokens = normalize(LONG)
    assert len(tokens) > 40
    output = normalize(model(LONG, to="negative").text)
    # cut at 20 tokens it could not come back this long; each piece ends no earlier than half its source
    assert len(output) >= len(tokens) / 2, output
    assert output[-1] == "." and output.count(",") >= 2
