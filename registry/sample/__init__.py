"""Sample data: the deterministic synthetic generator and the three demo parks."""
