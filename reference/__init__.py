"""Reference oracles: one module per student file, loaded by path (see grader.loader)."""
