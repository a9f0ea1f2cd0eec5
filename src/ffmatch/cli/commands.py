"""CLI commands; each module registers its commands on ``app``."""
