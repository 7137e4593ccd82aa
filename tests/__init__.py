"""The harness's own tests (see tests/README.md)."""
