"""Evaluation: protocols and splits, metrics and baselines, cross-validation, controls."""
