import pytest

from multistyle.text.tokenize import detokenize, normalize, split_words

CASES = [
    ("The food was cold!", "the food was cold !"),
    ("I don't think we'll be back... won't, can't, cannot.", "i do n't think we 'll be back ... wo n't , ca n't , can not ."),
    ('He said "I\u2019m sorry" twice.', "he said `` i 'm sorry '' twice ."),
    ("It cost $12.50 at 8:30 a.m. with Mr. Smith, 1,000 times.", "it cost $ _num_ at 8:30 a.m. with mr. smith , _num_ times ."),
    ("My grandma's pasta; the owners' dog (3-4 years).", "my grandma 's pasta ; the owners ' dog ( 3-4 years ) ."),
    ("Gonna love it.... really", "gon na love it ... . really"),
    ("great food <unk> and _num_ tacos", "great food <unk> and _num_ tacos"),
]


@pytest.mark.parametrize("raw, tokens", CASES)
def test_normalize_splits_like_the_corpus(raw, tokens):
    assert normalize(raw) == tokens.split()


@pytest.mark.parametrize("raw, tokens", CASES)
def test_tokens_round_trip_through_text(raw, tokens):
    assert normalize(detokenize(tokens.split())) == tokens.split()


def test_split_words_keeps_numbers_for_restoring():
    assert split_words("Paid $12 for 2 tacos") == ["paid", "$", "12", "for", "2", "tacos"]


def test_detokenize_reads_like_ordinary_text():
    tokens = "i do n't think the waiter said `` it 's $ _num_ '' , sadly ...".split()
    assert detokenize(tokens) == 'I don\'t think the waiter said "it\'s $_num_", sadly...'
    assert detokenize("we wo n't go back ( ever ) .".split()) == "We won't go back (ever)."
    assert detokenize([]) == ""


def test_whitespace_only_text_has_no_tokens():
    assert normalize("   \t ") == []


def test_corpus_lines_are_normalised_and_round_trip(shared_data):
    lines = []
    for name in ("sentiment.test.0", "sentiment.test.1", "sentiment.dev.0", "sentiment.dev.1"):
        lines += (shared_data / "yelp" / name).read_text(encoding="utf-8").splitlines()
    unchanged = sum(normalize(line) == line.split() for line in lines)
    assert unchanged >= 0.99 * len(lines), "the corpus is already in our tokenisation, nearly line for line"
    failures = [line for line in lines if normalize(detokenize(normalize(line))) != normalize(line)]
    assert failures == []


def test_split_sentences_keeps_abbreviations_initials_numbers_and_quotes():
    from multistyle.text.tokenize import split_sentences

    text = 'Mr. Smith was great. The food was 5.5 stars! I said "wow." Then J. R. left. great pizza, friendly staff'
    assert split_sentences(text) == ["Mr. Smith was great.", "The food was 5.5 stars!", 'I said "wow."',
                                     "Then J. R. left. great pizza, friendly staff"]
    assert split_sentences("  ") == []


def test_a_review_of_several_sentences_is_transferred_sentence_by_sentence(cli):
    code, out, err = cli("text", "transfer", "--to", "positive", "The pizza was cold. The waiter was rude!")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 and out.count(".") + out.count("!") >= 2, out


def test_text_transfer_reads_piped_lines(cli, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("the food was cold .\n\ngreat staff\n"))
    code, out, err = cli("text", "transfer", "--to", "flip")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2, "one output per non-empty piped line"
