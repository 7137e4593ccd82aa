"""Reference oracle for a6_batchnorm: ``batchnorm.py``."""
