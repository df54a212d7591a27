"""Text sentiment transfer: Shen et al. (2017)'s cross-aligned autoencoder, and its evaluation.

Flow: tokenize/vocab/data (corpus -> batches) -> model (autoencoder) -> train (adversarial
alignment) -> decode/transfer (rewriting) -> classifier/lm/evaluator/metrics/evaluate (scoring).
"""
