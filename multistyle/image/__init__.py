"""Image style transfer: Gatys et al. (optimisation) and AdaIN (feed-forward)."""
