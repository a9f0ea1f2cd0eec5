"""Reports: figures and documents built from result objects (they only read results)."""
