"""Reference oracle for a9_torch: the notebook's PyTorch helpers as a module."""
