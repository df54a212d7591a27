"""A templated toy corpus in Shen's format, for tests and smoke runs: one word carries the sentiment.

Every sentence is TEMPLATE(noun, occasion, sentiment word); a fixed share of each style's sentences
is held out as dev and test, so transfer is measured on sentences the model never saw.
"""
import itertools
import random
from pathlib import Path

from multistyle.text.data import write_lines

SENTIMENT_WORDS = (
    ("terrible", "bland", "rude", "awful", "horrible", "cold"),  # negative
    ("great", "delicious", "friendly", "amazing", "excellent", "perfect"),  # positive
)
NOUNS = ("food", "service", "staff", "pizza", "coffee", "waiter", "room", "bread", "soup", "music")
OCCASIONS = ("at lunch", "at dinner", "last night", "on sunday", "downtown", "today")
TEMPLATES = (
    "the {noun} was {word} {occasion} .",
    "i thought the {noun} {occasion} was really {word} .",
    "our {noun} {occasion} was {word} !",
    "{occasion} , the {noun} was so {word} .",
)


def toy_sentences(label: int) -> list[str]:
    return [
        template.format(noun=noun, occasion=occasion, word=word)
        for template, noun, occasion, word in itertools.product(TEMPLATES, NOUNS, OCCASIONS, SENTIMENT_WORDS[label])
    ]


def write_toy_corpus(folder: str | Path, held_out: float = 0.1, seed: int = 0) -> Path:
    """Write sentiment.{train,dev,test}.{0,1}; dev and test each get `held_out` of every style."""
    folder = Path(folder)
    rng = random.Random(seed)
    for label in (0, 1):
        sentences = toy_sentences(label)
        rng.shuffle(sentences)
        n = round(held_out * len(sentences))
        splits = {"test": sentences[:n], "dev": sentences[n : 2 * n], "train": sentences[2 * n :]}
        for split, lines in splits.items():
            write_lines(folder / f"sentiment.{split}.{label}", lines)
    return folder
