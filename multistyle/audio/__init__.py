"""Audio style transfer: Grinstein et al.'s spectrogram-domain Gram method and its extractors."""
