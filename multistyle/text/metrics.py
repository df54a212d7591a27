"""Scores of transferred sentences: style accuracy, BLEU (content) and perplexity (fluency)."""
from dataclasses import dataclass

from multistyle.errors import MultistyleError
from multistyle.text.data import Sentences


def require_eval_extra(package: str):
    """Import an evaluation-only dependency, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError:
        raise MultistyleError(f"{package} is needed to score text; install the evaluation extra: pip install 'multistyle[eval]'") from None


def corpus_bleu(hypotheses: Sentences, references: Sentences) -> float:
    """sacrebleu corpus BLEU on our own tokens (tokenize="none": both sides went through `normalize`)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    bleu = require_eval_extra("sacrebleu.metrics").BLEU(tokenize="none", force=True)  # force: our tokens are meant to look tokenised
    return bleu.corpus_score([" ".join(h) for h in hypotheses], [[" ".join(r) for r in references]]).score


@dataclass
class TransferScores:
    """Scores of one system's outputs for the negative and the positive test sentences."""

    lines: tuple[int, int]
    accuracy: float  # % of outputs the classifier assigns to the target style
    self_bleu: float  # BLEU against the source sentences
    ref_bleu: float | None  # BLEU against the human rewrites, where the corpus has them
    perplexity: float | None  # under the evaluation language model, where there is one
