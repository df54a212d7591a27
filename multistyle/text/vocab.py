"""Vocabularies of the text models: words (the training split's words seen at least `min_count` times) or
SentencePiece subwords, each with the same four specials first."""
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.errors import InputError
from multistyle.text.tokenize import UNKNOWN

PAD, GO, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<go>", "<eos>", UNKNOWN)


def content_ids(ids: Iterable[int]) -> list[int]:
    """The ids up to the first <eos>, without padding and <go>."""
    kept = []
    for i in map(int, ids):
        if i == EOS:
            break
        if i not in (PAD, GO):
            kept.append(i)
    return kept


class Vocab:
    FILE = "vocab.txt"

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
        return [self.words[i] for i in content_ids(ids)]

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


class SubwordVocab:
    """A SentencePiece unigram vocabulary over the corpus's normalised tokens (Kudo 2018): a word outside the
    training vocabulary is spelled with pieces instead of becoming <unk>. Ids 0-3 are the same specials as
    Vocab's, so the models and decoding treat both alike; `encode`/`decode` still take and give word tokens."""

    FILE = "subwords.model"

    def __init__(self, model_proto: bytes, source: str = "SentencePiece model"):
        import sentencepiece

        self.proto = model_proto
        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(model_proto)
        except (RuntimeError, OSError):
            raise InputError(f"{source}: not a SentencePiece model") from None
        specials = tuple(self.processor.IdToPiece(i) for i in range(len(SPECIALS)))
        if specials != SPECIALS:
            raise InputError(f"{source}: its first pieces are {' '.join(specials)}, not {' '.join(SPECIALS)}")
        self.words = [self.processor.IdToPiece(i) for i in range(self.processor.GetPieceSize())]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        """Whether the word can be written without <unk> (as every word of the training characters can)."""
        return word != UNKNOWN and UNK not in self.processor.EncodeAsIds(word)

    @classmethod
    def train(cls, sentences: Iterable[list[str]], size: int, seed_sentences: int = 300_000) -> "SubwordVocab":
        import io

        import sentencepiece

        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.Train(
            sentence_iterator=(" ".join(w for w in s if w != UNKNOWN) for s in sentences), model_writer=model,
            vocab_size=size, model_type="unigram", character_coverage=1.0, input_sentence_size=seed_sentences,
            shuffle_input_sentence=True, pad_id=PAD, bos_id=GO, eos_id=EOS, unk_id=UNK, pad_piece=SPECIALS[PAD],
            bos_piece=SPECIALS[GO], eos_piece=SPECIALS[EOS], unk_piece=UNKNOWN, unk_surface=f" {UNKNOWN} ",
            user_defined_symbols=["_num_"], hard_vocab_limit=False, minloglevel=2,
        )
        return cls(model.getvalue())

    def encode(self, sentence: list[str]) -> list[int]:
        ids: list[int] = []
        run: list[str] = []
        for word in [*sentence, UNKNOWN]:  # a literal <unk> token stays one id
            if word != UNKNOWN:
                run.append(word)
                continue
            if run:
                ids += self.processor.EncodeAsIds(" ".join(run))
                run = []
            ids.append(UNK)
        return ids[:-1]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return self.processor.DecodeIds(content_ids(ids)).split()

    def save(self, path: str | Path) -> None:
        atomic_write_bytes(path, self.proto)

    @classmethod
    def load(cls, path: str | Path) -> "SubwordVocab":
        try:
            proto = Path(path).read_bytes()
        except FileNotFoundError:
            raise InputError(f"{path}: SentencePiece model not found") from None
        return cls(proto, str(path))


AnyVocab = Vocab | SubwordVocab


def save_vocab(folder: str | Path, vocab: AnyVocab) -> None:
    vocab.save(Path(folder) / vocab.FILE)


def load_vocab(folder: str | Path) -> AnyVocab:
    """A model folder's vocabulary: subwords.model when the model was trained on subwords, else vocab.txt."""
    path = vocab_file(folder)
    if path is not None and path.name == SubwordVocab.FILE:
        return SubwordVocab.load(path)
    return Vocab.load(Path(folder) / Vocab.FILE)  # absent: Vocab.load names the missing file


def vocab_file(folder: str | Path) -> Path | None:
    """The folder's vocabulary file, or None when it has none."""
    for name in (SubwordVocab.FILE, Vocab.FILE):
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None
