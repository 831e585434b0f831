"""Training: the fit loop, metrics and callbacks."""
