"""Reference oracle for a4_initialization (the student's ``init.ipynb``): ``init.py``."""
