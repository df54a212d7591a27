"""No output holds <unk>: decoding writes a placeholder no more often than its source has it, and each one written is
replaced by the source word it lines up with (multistyle.text.transfer.fill_placeholders).

Transferring all 1,000 Yelp test sentences takes 65-75 s on one thread here, so the test set's test takes every
sentence with an unknown word, the two lines that wrote <unk> without one before, and every fifth line (about 240);
`python benchmarks/text_selection.py` counts <unk> over all 1,000 (its "<unk> outputs" column).
"""
import pytest
import torch

from multistyle.text.bundle import WEIGHTS, load_model
from multistyle.text.data import read_lines, split_file
from multistyle.text.decode import transfer_candidates
from multistyle.text.tokenize import UNKNOWN, normalize, split_words
from multistyle.text.transfer import (
    SHIPPED_MODEL,
    SHIPPED_MODELS,
    fill_placeholders,
    model_ids,
    placeholder_ids,
    placeholder_of,
    transfer_sentences,
)
from multistyle.text.vocab import SPECIALS, UNK, Vocab

shipped = pytest.mark.skipif(not (SHIPPED_MODEL / WEIGHTS).is_file(), reason="no shipped text model")
WROTE_UNK_WITHOUT_ONE = {0: [144, 455]}  # test lines (0-based) whose outputs held <unk> though they have no unknown word


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    return load_model(SHIPPED_MODEL)


@pytest.fixture(scope="module", params=list(SHIPPED_MODELS))
def each_shipped(request):
    """Every shipped text model (cross-aligned, style-transformer) that this install has."""
    folder = SHIPPED_MODELS[request.param]
    if not (folder / WEIGHTS).is_file():
        pytest.skip(f"the {request.param} text model does not ship with this install")
    torch.set_num_threads(1)
    return load_model(folder)


def test_placeholders_take_the_source_word_they_line_up_with():
    vocab = Vocab([*SPECIALS, "_num_", "the", "tacos", "were", "great", ","])
    source = split_words("The 12 carnitas tacos were bad, 3 times")
    assert fill_placeholders(["the", "_num_", "<unk>", "tacos", "were", "great", "_num_", "<unk>"], source, vocab) == [
        "the", "12", "carnitas", "tacos", "were", "great", "3", "times"]
    # in order where nothing else lines up; a number or word the model left out is not forced back in
    assert fill_placeholders(["<unk>", "<unk>", "great"], source, vocab) == ["carnitas", "bad", "great"]
    assert fill_placeholders(["tacos", "were", "<unk>"], source, vocab) == ["tacos", "were", "bad"]
    # an <unk> with no unknown source word left is dropped; a _num_ with no number stays the corpus's _num_
    assert fill_placeholders(["great", "<unk>", "tacos", "_num_"], split_words("great tacos"), vocab) == ["great", "tacos", "_num_"]
    assert fill_placeholders(["<unk>", "<unk>"], ["the", "carnitas"], vocab) == ["carnitas"]


def test_placeholder_ids_of_a_word_vocabulary():
    assert placeholder_ids(Vocab([*SPECIALS, "_num_", "the"])) == (UNK, 4)
    assert placeholder_ids(Vocab([*SPECIALS, "the"])) == (UNK,)
    assert placeholder_ids(Vocab([*SPECIALS, "_num_", "the", "$"])) == (UNK, 4, 6), "no $ without a number to stand before"
    vocab = Vocab([*SPECIALS, "_num_", "the"])
    assert [placeholder_of(w, vocab) for w in ["the", "12", "tacos", UNKNOWN]] == [None, "_num_", "<unk>", None]


@shipped
def test_decoding_writes_no_more_unk_than_the_source_has(trained, shared_data):
    lines = [read_lines(split_file(shared_data / "yelp", "test", 0))[i] for i in WROTE_UNK_WITHOUT_ONE[0]]
    lines += ["my husband got a ruben sandwich , he loved it .", "this place is edgy and fun .",
              "great kebab dishes and good service .", "the people at sonora were very good to me ."]
    ids = model_ids(trained, [normalize(line) for line in lines])
    settings = trained.selector.config.candidates
    labels = [1] * 2 + [0] * 4

    def excess(limited):
        rows = transfer_candidates(trained.model, ids, labels, [1 - y for y in labels], settings, limited=limited)
        return sum(max(0, c.count(UNK) - s.count(UNK)) for s, row in zip(ids, rows) for c in row)

    assert excess(()) > 0, "unconstrained, the model writes extra <unk> on these sentences (so the check below can fail)"
    assert excess(placeholder_ids(trained.vocab)) == 0


def test_no_unk_in_the_test_sets_outputs(each_shipped, shared_data):
    trained = each_shipped
    vocab = trained.vocab
    checked = 0
    for label in (0, 1):
        sentences = [normalize(line) for line in read_lines(split_file(shared_data / "yelp", "test", label))]
        chosen = [s for i, s in enumerate(sentences) if i % 5 == 0 or i in WROTE_UNK_WITHOUT_ONE.get(label, [])
                  or any(placeholder_of(w, vocab) == UNKNOWN for w in s)]
        outputs = transfer_sentences(trained, chosen, ("positive", "negative")[label])
        for source, output in zip(chosen, outputs):
            assert output and UNKNOWN not in output, (source, output)
        checked += len(chosen)
    assert checked >= 230
