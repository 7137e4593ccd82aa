"""Reference oracle for a3_autodiff (loaded by path, see grader.loader)."""
