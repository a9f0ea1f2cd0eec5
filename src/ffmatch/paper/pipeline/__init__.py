"""The experiments: cross-validation, pruning, the GA and the paper end to end, as stages."""
