"""Word-level vocabulary: the training split's words seen at least `min_count` times, plus four specials."""
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.errors import InputError
from multistyle.text.tokenize import UNKNOWN

PAD, GO, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<go>", "<eos>", UNKNOWN)


class Vocab:
    def __init__(self, words: Iterable[str]):
        self.words = list(words)
        if tuple(self.words[: len(SPECIALS)]) != SPECIALS:
            raise InputError(f"a vocabulary must start with {' '.join(SPECIALS)}")
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise InputError("a vocabulary must not list a word twice")

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @classmethod
    def build(cls, sentences: Iterable[list[str]], min_count: int) -> "Vocab":
        counts = Counter(word for sentence in sentences for word in sentence)
        kept = sorted((w for w, c in counts.items() if c >= min_count and w not in SPECIALS), key=lambda w: (-counts[w], w))
        return cls([*SPECIALS, *kept])

    def encode(self, sentence: list[str]) -> list[int]:
        return [self.index.get(word, UNK) for word in sentence]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words up to the first <eos>; padding and <go> are dropped."""
        words = []
        for i in ids:
            if i == EOS:
                break
            if i not in (PAD, GO):
                words.append(self.words[i])
        return words

    def save(self, path: str | Path) -> None:
        atomic_write_bytes(path, ("\n".join(self.words) + "\n").encode())

    @classmethod
    def load(cls, path: str | Path) -> "Vocab":
        try:
            words = Path(path).read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            raise InputError(f"{path}: vocabulary file not found") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: vocabulary is not UTF-8 text") from None
        try:
            return cls(w for w in words if w)
        except InputError as e:
            raise InputError(f"{path}: {e}") from None
