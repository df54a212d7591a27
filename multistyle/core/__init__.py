"""What every modality shares: losses, feature extraction, input optimisation, checkpoints, runtime."""
