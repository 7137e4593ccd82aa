"""Reference oracles for a2_backprop (loaded by path, see grader.loader)."""
