"""Reference oracles for a5_regularization: ``dropout.py`` and ``early_stopping.py``."""
