"""Reference oracles for a1_foundations (loaded by path, see grader.loader)."""
