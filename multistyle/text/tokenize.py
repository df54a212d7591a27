"""Raw text <-> the corpus's tokens: lower-cased, Penn-Treebank-style split, numbers masked as _num_.

Shen et al.'s Yelp corpus was tokenised this way ("did n't", "it 's", "$ _num_", "`` hi ''").
Every line the project reads, corpus files included, goes through `normalize`, so a user's sentence
is split exactly like the training data. `detokenize` turns tokens back into ordinary text, and
`normalize(detokenize(tokens)) == tokens` for normalised tokens.
"""
import re
import unicodedata

NUMBER = "_num_"
UNKNOWN = "<unk>"

_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u2013": "-", "\u2014": "--"})
_UNKNOWN_SENTINEL = "UNKNOWNWORD"  # upper case cannot occur after lower-casing; shields <unk> from the bracket split
# A period ending one of these stays part of the word (PTB keeps "mr." whole), except at the end of the sentence.
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "mt", "ft", "etc", "approx", "apt", "ave"}
_CONTRACTIONS = {"cannot": "can not", "gonna": "gon na", "gotta": "got ta", "wanna": "wan na"}
_CLITIC = re.compile(r"(?<=[^\s'])('s|'m|'d|'ll|'re|'ve|n't)(?![a-z0-9])")
_IS_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DOTTED = re.compile(r"(?:[a-z]\.)+")  # initials and a.m., u.s.


def _split_punctuation(text: str) -> str:
    text = re.sub(r"^\"|(?<=[\s(\[{<])\"", " `` ", text)  # a double quote opens at the start or after a space
    text = text.replace('"', " '' ")  # and closes everywhere else
    text = text.replace("...", " ... ")  # "...." is an ellipsis and a period
    text = re.sub(r"--+", " -- ", text)
    text = re.sub(r"[;@#$%&?!()\[\]{}<>*]", r" \g<0> ", text)
    text = re.sub(r"(?<!\d)[,:]|[,:](?!\d)", r" \g<0> ", text)  # but not inside 1,000 or 8:30
    text = re.sub(r"(?<=[^\s'])'(?![a-z0-9])", " ' ", text)  # closing single quote, plural possessive
    return _CLITIC.sub(r" \1", text)


def _split_period(token: str, is_last_word: bool) -> list[str]:
    if len(token) < 2 or not token.endswith(".") or token.endswith(".."):
        return [token]
    if not is_last_word and (token[:-1] in _ABBREVIATIONS or _DOTTED.fullmatch(token)):
        return [token]
    return [token[:-1], "."]


def split_words(text: str) -> list[str]:
    """Lower-cased PTB-style tokens, numbers as written (so that output can restore them)."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHIC).lower()
    text = _split_punctuation(text.replace(UNKNOWN, f" {_UNKNOWN_SENTINEL} "))
    tokens = text.split()
    word_positions = [i for i, t in enumerate(tokens) if any(c.isalnum() for c in t)]
    last_word = word_positions[-1] if word_positions else -1
    tokens = [part for i, t in enumerate(tokens) for part in _split_period(t, i == last_word)]
    tokens = [part for t in tokens for part in _CONTRACTIONS.get(t, t).split()]
    return [UNKNOWN if t == _UNKNOWN_SENTINEL else t for t in tokens]


def is_number(token: str) -> bool:
    return _IS_NUMBER.fullmatch(token) is not None


def normalize(text: str) -> list[str]:
    """The corpus's tokens for a raw sentence: `split_words` with every number replaced by _num_."""
    return [NUMBER if is_number(t) else t for t in split_words(text)]


_ATTACH_LEFT = {",", ".", "!", "?", ";", ":", "%", ")", "]", "}", "...", "''", "'", "n't", "'s", "'m", "'d", "'ll", "'re", "'ve"}
_ATTACH_RIGHT = {"(", "[", "{", "$", "``"}
_REJOIN = {("wo", "n't"): "won't", ("ca", "n't"): "can't", ("gon", "na"): "gonna", ("wan", "na"): "wanna", ("got", "ta"): "gotta"}
_SURFACE = {"``": '"', "''": '"', "i": "I"}


def detokenize(tokens: list[str]) -> str:
    """Ordinary text: punctuation and clitics reattached, quotes restored, 'I' and the first letter capitalised."""
    words: list[str] = []
    glue_next = False
    for i, token in enumerate(tokens):
        if i and (tokens[i - 1], token) in _REJOIN:
            previous = tokens[i - 1]
            words[-1] = words[-1][: len(words[-1]) - len(previous)] + _REJOIN[previous, token]
            continue
        surface = _SURFACE.get(token, token)
        if words and (glue_next or token in _ATTACH_LEFT):
            words[-1] += surface
        else:
            words.append(surface)
        glue_next = token in _ATTACH_RIGHT
    text = " ".join(words)
    return text[:1].upper() + text[1:]


_SENTENCE_END = re.compile(r"(?<=[.!?])([\"')\]]*)\s+(?=[\"'(\[]*[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """A text cut into sentences: after ., ! or ? (and any closing quote) followed by a space and a capital or a
    digit, except after an abbreviation such as "Mr." or an initial. Lower-case runs stay one sentence."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue
        pieces.append(text[start : match.end(1)].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]
