"""The style classifier that scores transfer, as in Shen et al.: a TextCNN over word embeddings."""
import torch
import torch.nn.functional as F
from torch import nn

from multistyle.text.cnn import TextCNN
from multistyle.text.config import EvaluatorConfig
from multistyle.text.data import Sentences, pad_ids
from multistyle.text.fit import fit
from multistyle.text.vocab import PAD, Vocab


class SentimentCNN(nn.Module):
    def __init__(self, vocab_size: int, config: EvaluatorConfig):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.classifier_dim_emb, padding_idx=PAD)
        self.cnn = TextCNN(config.classifier_dim_emb, config.classifier_filter_sizes, config.classifier_n_filters, config.classifier_dropout)

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        """(B, T) word ids -> (B,) logits of the positive style."""
        return self.cnn(self.embedding(words))


class StyleClassifier:
    """Predicts 0 (negative) or 1 (positive) for tokenised sentences."""

    def __init__(self, net: SentimentCNN, vocab: Vocab, max_len: int):
        self.net, self.vocab, self.max_len = net, vocab, max_len

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def encode(self, sentences: Sentences) -> torch.Tensor:
        return pad_ids([self.vocab.encode(s[: self.max_len]) for s in sentences]).to(self.device)

    @torch.no_grad()
    def predict(self, sentences: Sentences, batch_size: int = 256) -> list[int]:
        self.net.eval()
        labels: list[int] = []
        for start in range(0, len(sentences), batch_size):
            labels += (self.net(self.encode(sentences[start : start + batch_size])) > 0).long().tolist()
        return labels

    def accuracy(self, sentences: Sentences, labels: list[int]) -> float:
        """Percentage of sentences classified as `labels`."""
        predicted = self.predict(sentences)
        return 100.0 * sum(p == y for p, y in zip(predicted, labels)) / max(1, len(labels))


def train_classifier(
    neg: Sentences, pos: Sentences, vocab: Vocab, config: EvaluatorConfig, device: torch.device, show_progress: bool = False
) -> tuple[StyleClassifier, int]:
    """The trained classifier and the number of steps it took."""
    net = SentimentCNN(len(vocab), config).to(device)
    classifier = StyleClassifier(net, vocab, config.max_len)
    examples = [(s, 0) for s in neg] + [(s, 1) for s in pos]

    def batch_loss(batch: list[tuple[list[str], int]]) -> torch.Tensor:
        logits = net(classifier.encode([s for s, _ in batch]))
        return F.binary_cross_entropy_with_logits(logits, torch.tensor([y for _, y in batch], dtype=torch.float, device=device))

    steps = fit(net, examples, batch_loss, epochs=config.classifier_epochs, batch_size=config.batch_size, lr=config.lr,
                max_steps=config.max_steps, seed=config.seed, description="style classifier", show_progress=show_progress)
    net.eval()
    return classifier, steps
