"""Pair representations (what a network sees of two photos) and the paper's selection rule."""
