"""Long input in pieces the model can write: sentences first, then clauses; the rewrites joined again.

The model was trained on single corpus sentences of at most `max_len` tokens. A tokenised text is cut after each
run of sentence-final tokens (. ! ? ..., with any closing quote or bracket) that has words after it, so a lower-case
paragraph of five sentences becomes five pieces. A sentence still too long is cut into the fewest pieces that fit,
at clause boundaries: after , ; : -- or before a conjunction. Each cut costs 1, plus 1 before "but", "because", "so"
and the like, plus 3 before "and", "or" (which join words as often as clauses), plus 10 anywhere else; the cheapest
cutting wins, and among equals the one with the most even pieces.

Each piece is rewritten alone. A piece that ends a clause rather than a sentence is given to the model with a final
period in place of its comma (the corpus's sentences end in punctuation); its rewrite loses that final punctuation
and gets the clause's own closing mark back. A sentence whose rewrite ends without final punctuation gets its
source's back, so five sentences come back as five.
"""
from dataclasses import dataclass

FINAL = {".", "!", "?", "..."}
CLOSING = {"''", "'", ")", "]", "}"}  # may follow a sentence's final punctuation and belong to it
CLAUSE_MARKS = {",", ";", ":", "--", "-"}
CONJUNCTIONS = {"but": 1, "so": 1, "because": 1, "although": 1, "though": 1, "while": 1, "yet": 1, "since": 1,
                "however": 1, "which": 1, "unless": 1, "whereas": 1, "and": 3, "or": 3, "plus": 3, "then": 3}
ANYWHERE_ELSE = 10


@dataclass
class Piece:
    """What the model reads for one piece of a sentence, and how its rewrite goes back in."""

    tokens: list[str]
    clause_mark: str | None = None  # a clause's own closing mark (","), put back after its rewrite
    ends_sentence: bool = True  # False: a clause; its rewrite's final punctuation is dropped


def has_word(tokens: list[str]) -> bool:
    return any(any(c.isalnum() for c in t) for t in tokens)


def split_sentence_runs(tokens: list[str]) -> list[list[str]]:
    """Tokens cut after each run of final punctuation (and closing quotes) that has a word somewhere after it."""
    pieces, start, i = [], 0, 0
    while i < len(tokens):
        if tokens[i] in FINAL:
            end = i + 1
            while end < len(tokens) and (tokens[end] in FINAL or tokens[end] in CLOSING):
                end += 1
            if has_word(tokens[start:i]) and has_word(tokens[end:]):
                pieces.append(tokens[start:end])
                start = end
            i = end
        else:
            i += 1
    pieces.append(tokens[start:])
    return [p for p in pieces if p]


def _cut_costs(tokens: list[str]) -> list[float]:
    """The cost of cutting before each index (see the module's docstring)."""
    costs = [1.0 + ANYWHERE_ELSE] * (len(tokens) + 1)
    for i, token in enumerate(tokens):
        if token in CONJUNCTIONS and i > 0:
            costs[i] = min(costs[i], 1.0 + CONJUNCTIONS[token])
        if token in CLAUSE_MARKS:
            costs[i + 1] = 1.0
    return costs


def split_clauses(tokens: list[str], limit: int) -> list[list[str]]:
    """Tokens cut at clause boundaries into parts of at most `limit` tokens, each with a word (see the module's
    docstring); by a shortest path over the cut positions."""
    n = len(tokens)
    if n <= limit:
        return [tokens]
    costs = _cut_costs(tokens)
    words = [0]
    for token in tokens:
        words.append(words[-1] + has_word([token]))
    best: list[tuple[float, int] | None] = [None] * (n + 1)  # (cost of tokens[:i], where its last piece starts)
    best[0] = (0.0, 0)
    for end in range(1, n + 1):
        for start in range(max(0, end - limit), end):
            if best[start] is None or words[end] == words[start]:
                continue
            cost = best[start][0] + (costs[start] if start else 0.0) + 0.01 * ((end - start) / limit) ** 2
            if best[end] is None or cost < best[end][0]:
                best[end] = (cost, start)
    if best[n] is None:  # too few words to give each piece one: plain chunks
        return [tokens[i : i + limit] for i in range(0, n, limit)]
    cuts, end = [], n
    while end:
        start = best[end][1]
        cuts.append(tokens[start:end])
        end = start
    return cuts[::-1]


def split_pieces(tokens: list[str], max_len: int) -> list[Piece]:
    """A tokenised text as pieces of at most `max_len` tokens each, in order (one piece when it is one short sentence)."""
    pieces = []
    for sentence in split_sentence_runs(tokens):
        if len(sentence) <= max_len:
            pieces.append(Piece(sentence))
            continue
        clauses = split_clauses(sentence, max_len - 1)  # room for the period a clause is given
        for k, clause in enumerate(clauses):
            if k == len(clauses) - 1:
                pieces.append(Piece(clause))
            elif clause[-1] in CLAUSE_MARKS:
                pieces.append(Piece([*clause[:-1], "."], clause[-1], ends_sentence=False))
            else:
                pieces.append(Piece([*clause, "."], None, ends_sentence=False))
    return pieces


def join_rewrites(pieces: list[Piece], rewrites: list[list[str]]) -> list[str]:
    """The pieces' rewrites as one token list: clauses with their own marks back, sentences with final punctuation."""
    joined: list[str] = []
    for piece, rewrite in zip(pieces, rewrites, strict=True):
        rewrite = list(rewrite)
        if not piece.ends_sentence:
            while rewrite and (rewrite[-1] in FINAL or rewrite[-1] in CLAUSE_MARKS):
                rewrite.pop()
            if piece.clause_mark is not None:
                rewrite.append(piece.clause_mark)
        else:
            source_end = _final_run(piece.tokens)
            if source_end and rewrite and not _final_run(rewrite):
                rewrite += source_end
        joined += rewrite
    return joined


def _final_run(tokens: list[str]) -> list[str]:
    """The sentence-final punctuation (with closing quotes) that ends `tokens`, or []."""
    i = len(tokens)
    while i > 0 and (tokens[i - 1] in FINAL or tokens[i - 1] in CLOSING):
        i -= 1
    run = tokens[i:]
    return run if any(t in FINAL for t in run) else []
