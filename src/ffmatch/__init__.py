"""ffmatch: decide whether two photos show the same person from 14 facial feature markers."""

__version__ = "0.1.0"
