"""Each shipped model on 60 review sentences written for these tests (tests/data/outside_reviews.tsv), not from
the corpus: varied casing and punctuation, numbers, emoji, up to 40 words."""
from pathlib import Path

import pytest

from multistyle.text.bundle import WEIGHTS
from multistyle.text.evaluator import SHIPPED_EVALUATOR, load_evaluator
from multistyle.text.tokenize import normalize
from multistyle.text.transfer import SHIPPED_MODELS, TextTransfer
from multistyle.text.vocab import load_vocab

REVIEWS = Path(__file__).parent / "data" / "outside_reviews.tsv"


def read_reviews() -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in REVIEWS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [(label, text) for label, text in rows]


@pytest.fixture(scope="module", params=list(SHIPPED_MODELS))
def flipped(request):
    """(model folder, the reviews, each review flipped) for every shipped text model this install has."""
    folder = SHIPPED_MODELS[request.param]
    if not (folder / WEIGHTS).is_file():
        pytest.skip(f"the {request.param} text model does not ship with this install")
    reviews = read_reviews()
    return folder, reviews, TextTransfer.from_pretrained(request.param, device="cpu")([text for _, text in reviews], to="flip").texts


def test_the_sixty_reviews_are_varied():
    reviews = read_reviews()
    assert len(reviews) == 60 and {label for label, _ in reviews} == {"positive", "negative"}
    texts = [text for _, text in reviews]
    assert max(len(t.split()) for t in texts) >= 30
    assert any(t == t.lower() for t in texts) and any(t == t.upper() for t in texts)
    assert any(not t.rstrip()[-1] in ".!?" for t in texts) and any(any(c.isdigit() for c in t) for t in texts)
    assert sum(any(ord(c) > 0x2000 for c in t) for t in texts) >= 5


def test_every_review_comes_back_non_empty_in_the_other_sentiment_without_repeats(flipped):
    _, reviews, outputs = flipped
    classifier = load_evaluator(SHIPPED_EVALUATOR).classifier
    targets = [0 if label == "positive" else 1 for label, _ in reviews]
    assert all(output.strip() for output in outputs)
    tokens = [normalize(output) for output in outputs]
    assert classifier.accuracy(tokens, targets) >= 80
    for output, words in zip(outputs, tokens):
        bigrams = list(zip(words, words[1:]))
        assert len(bigrams) == len(set(bigrams)), output


def test_rewrites_read_like_their_inputs(flipped):
    _, reviews, outputs = flipped
    for (_, text), output in zip(reviews, outputs):
        if text == text.lower():
            assert output == output.lower(), (text, output)
        if text[-1].isalpha():
            assert not output.endswith("."), (text, output)
        for emoji in ("😊", "😡", "🤤", "🍻", "🙄", "👍", "👎"):
            if emoji in text:
                assert any(e in output for e in ("😊", "😡", "🤤", "🍻", "🙄", "👍", "👎", "😞", "🤢")), (text, output)


def test_no_review_comes_back_with_unk_or_a_placeholder(flipped):
    folder, reviews, outputs = flipped
    vocab = load_vocab(folder)
    unknown = sum(any(w not in vocab for w in normalize(text)) for _, text in reviews)
    assert unknown >= 5, "the file has words outside the model's vocabulary to copy through"
    for (_, text), output in zip(reviews, outputs):
        assert "<unk>" not in output and "_num_" not in output, (text, output)
