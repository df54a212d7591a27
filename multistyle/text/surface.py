"""A user's sentence in, a rewrite that reads like it out: what normalisation takes away is put back.

The corpus is lower-cased PTB tokens ending in punctuation, without emoji. Before transfer, emoji and
emoticons are lifted out of the sentence (to go back where they were), a final period is added when the
sentence ends without punctuation (and taken off the rewrite again), and the casing is noted: lower-case
input gives lower-case output, all capitals give capitals, and words written with capitals inside the
sentence (names: "Giordano's", "NYC") keep them. An emoji or emoticon with a clear sentiment that
contradicts the rewrite's target style is swapped for its opposite (":(" for ":)", "👎" for "👍").
"""
import re
from dataclasses import dataclass, field

from multistyle.text.tokenize import detokenize, split_words

_PICTOGRAPHS = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D"
_DECORATION = re.compile(
    rf"[{_PICTOGRAPHS}]+"  # emoji, with their variation selectors, joiners and skin tones
    r"|(?<!\S)(?:[:;=8xX][-'^]?[()\[\]DPpOo3/\\|*@]+|<3+|\^_*\^)(?=\s|$|[.!?,])"  # emoticons standing as words
)
_FINAL = {".", "!", "?", "..."}
_OPPOSITES = [(":)", ":("), (":-)", ":-("), (":D", ":("), ("<3", "</3"), ("😊", "😞"), ("😀", "😠"), ("😃", "😠"), ("😄", "😠"),
              ("😁", "😠"), ("😍", "😒"), ("🥰", "😒"), ("😋", "🤢"), ("🤤", "🤢"), ("👍", "👎"), ("❤️", "💔"), ("❤", "💔"),
              ("🙂", "🙁"), ("🙌", "😩"), ("👌", "👎"), ("💯", "👎"), ("😎", "😩"), ("😂", "😭")]
_POSITIVE = {p: n for p, n in _OPPOSITES}
_NEGATIVE = {n: p for p, n in reversed(_OPPOSITES)} | {"😡": "😊", "🤬": "😊", "🙄": "😊", "😢": "😊", "🤮": "😋", "😤": "😊", "😑": "🙂"}
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass
class Surface:
    """How a sentence was written, apart from its words: what `prepare` took out and `render` puts back."""

    casing: str  # "lower", "upper" or "sentence" (a lower-case first letter stays lower-case)
    added_period: bool
    token_count: int  # the input's own tokens (without an added period)
    lower_first: bool = False  # the input began with a lower-case letter
    decorations: list[tuple[int, str, str | None]] = field(default_factory=list)  # (tokens before, text, word before)
    cased_words: dict[str, str] = field(default_factory=dict)  # lower-case word -> as written, for names


def prepare(sentence: str) -> tuple[list[str], Surface]:
    """The corpus-style tokens the model reads, and the surface needed to render its rewrite like the input."""
    decorations, plain, cursor = [], [], 0
    for match in _DECORATION.finditer(sentence):
        plain.append(sentence[cursor : match.start()])
        before = split_words(" ".join(plain))
        decorations.append((len(before), match.group().strip(), before[-1] if before else None))
        plain.append(" ")
        cursor = match.end()
    plain.append(sentence[cursor:])
    text = "".join(plain)
    tokens = split_words(text)
    added_period = bool(tokens) and tokens[-1] not in _FINAL
    if added_period:
        tokens.append(".")
    letters = "".join(_LETTERS.findall(text))
    if letters and letters == letters.lower():
        casing = "lower"
    elif len(letters) > 3 and letters == letters.upper():
        casing = "upper"
    else:
        casing = "sentence"
    cased = {}
    for number, word in enumerate(_LETTERS.findall(text)):
        has_inner_capital = word[1:] != word[1:].lower()
        if word != word.lower() and word.lower() != "i" and (number > 0 or has_inner_capital):
            cased.setdefault(word.lower(), word)
    first_letter = next((c for c in text if c.isalpha()), "")
    return tokens, Surface(casing, added_period, len(tokens) - added_period, first_letter.islower(), decorations, cased)


def render(tokens: list[str], surface: Surface, style: str | None = None) -> str:
    """Rewritten tokens as text written like the input: its casing, final punctuation and emoji (those with the
    opposite sentiment of `style`, "positive" or "negative", swapped)."""
    tokens = list(tokens)
    if surface.added_period and tokens and tokens[-1] == ".":
        tokens.pop()
    text = detokenize(_with_decorations(tokens, surface, style))
    if surface.casing == "lower":
        return text.lower()
    if surface.casing == "upper":
        return text.upper()
    text = _LETTERS.sub(lambda m: surface.cased_words.get(m.group().lower(), m.group()), text)
    return text[:1].lower() + text[1:] if surface.lower_first and tokens and tokens[0] not in surface.cased_words else text


def in_style(decoration: str, style: str | None) -> str:
    """An emoji or emoticon, or its opposite where its sentiment contradicts `style`; repeats ("😡😡") stay repeated."""
    opposites = _NEGATIVE if style == "positive" else _POSITIVE if style == "negative" else {}
    for size in (len(decoration), *range(1, len(decoration))):
        unit = decoration[:size]
        if unit in opposites and decoration == unit * (len(decoration) // size):
            return opposites[unit] * (len(decoration) // size)
    return decoration


def _with_decorations(tokens: list[str], surface: Surface, style: str | None) -> list[str]:
    """The tokens with each emoji or emoticon placed as it was: at the start, at the end, or after the same word."""
    head, tail = [], []
    for before, text, word in surface.decorations:
        text = in_style(text, style)
        if before == 0:
            head.append(text)
        elif before >= surface.token_count:
            tail.append(text)
        elif word in tokens:
            tokens.insert(tokens.index(word) + 1, text)
        else:  # its word was rewritten: the same number of tokens in, before any final punctuation
            tokens.insert(min(before, len(tokens) - (1 if tokens and tokens[-1] in _FINAL else 0)), text)
    return head + tokens + tail
