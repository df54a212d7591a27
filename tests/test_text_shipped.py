"""The Yelp model that ships in multistyle/text/weights: it loads, and it moves clear reviews toward the other sentiment."""
import json

import pytest

from multistyle.text.bundle import CALIBRATION, FIGURES, WEIGHTS, load_config_json, load_model
from multistyle.text.transfer import SHIPPED_MODEL, SHIPPED_MODELS, TextTransfer

pytestmark = pytest.mark.skipif(not (SHIPPED_MODEL / WEIGHTS).is_file(), reason="no text model ships")

# Words whose sentiment no Yelp reader would dispute; the transfers are judged by them alone.
POSITIVE = {"great", "good", "delicious", "friendly", "best", "amazing", "love", "excellent", "nice", "awesome",
            "fresh", "perfect", "recommend", "helpful", "fantastic", "wonderful", "favorite", "tasty", "always"}
NEGATIVE = {"rude", "cold", "worst", "never", "bad", "terrible", "horrible", "awful", "disgusting", "slow", "dirty",
            "bland", "overpriced", "not", "n't", "no", "poor", "stale"}
COMPLAINTS = [
    "the food was cold and the staff was rude .",
    "worst service i have ever had .",
    "the pizza was bland and overpriced .",
    "the waitress was slow and never came back .",
    "terrible place , i will not return .",
    "the rooms were dirty and the bed was awful .",
]
PRAISE = [
    "the food was delicious and the staff was friendly .",
    "best service i have ever had .",
    "the pizza was fresh and tasty .",
    "our waitress was great and very helpful .",
    "i love this place and will be back .",
    "the rooms were clean and the bed was perfect .",
]


def sentiment_words(sentence: str) -> tuple[int, int]:
    words = sentence.lower().replace("n't", " n't").split()
    return sum(w in POSITIVE for w in words), sum(w in NEGATIVE for w in words)


def shipped_figures() -> dict:
    return json.loads((SHIPPED_MODEL / FIGURES).read_text())


def test_shipped_model_comes_with_its_training_figures():
    figures = shipped_figures()
    dev, target = figures["best"]["dev"], load_config_json(SHIPPED_MODEL).target_accuracy
    assert figures["steps"] > 0 and dev["calibrated_accuracy"] >= target > dev["accuracy"]


def test_shipped_model_transfers_at_its_calibrated_strength():
    calibration, target = json.loads((SHIPPED_MODEL / CALIBRATION).read_text()), load_config_json(SHIPPED_MODEL).target_accuracy
    assert calibration["dev"]["accuracy"] >= target
    assert all(row["accuracy"] < target for row in calibration["sweep"][:-1]), "the smallest strength on target"
    assert load_model(SHIPPED_MODEL).strength == calibration["strength"] > 0


@pytest.mark.parametrize("model", list(SHIPPED_MODELS))
@pytest.mark.parametrize("sources, target, toward", [(COMPLAINTS, "positive", 0), (PRAISE, "negative", 1)])
def test_shipped_model_moves_clear_reviews_to_the_other_sentiment(sources, target, toward, model):
    if not (SHIPPED_MODELS[model] / WEIGHTS).is_file():
        pytest.skip(f"the {model} text model does not ship with this install")
    outputs = TextTransfer.from_pretrained(model)(sources, target).texts
    assert len(outputs) == len(sources)
    moved = 0
    for source, output in zip(sources, outputs):
        before, after = sentiment_words(source), sentiment_words(output)
        # more words of the target sentiment, or fewer of the source's, than the source had
        moved += after[toward] > before[toward] or after[1 - toward] < before[1 - toward]
    assert moved >= 4, list(zip(sources, outputs))


def test_demo_runs_the_text_line_with_the_shipped_model():
    from multistyle.demo import text_demo

    line = text_demo()
    assert line.startswith("text: ") and "->" in line and "skipped" not in line
