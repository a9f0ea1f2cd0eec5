"""The genetic algorithm over hidden neurons, epochs and learning rate (paper section 2.4)."""

from ffmatch.paper.search.checkpoint import GAState, load_state, save_state
from ffmatch.paper.search.encoding import GeneLayout, Genes
from ffmatch.paper.search.ga import (
    FITNESS_METRICS,
    GAConfig,
    GAResult,
    GenerationRecord,
    Individual,
    breed,
    evolve,
)

__all__ = [
    "FITNESS_METRICS",
    "GAConfig",
    "GAResult",
    "GAState",
    "GeneLayout",
    "GenerationRecord",
    "Genes",
    "Individual",
    "breed",
    "evolve",
    "load_state",
    "save_state",
]
