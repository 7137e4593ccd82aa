"""``python -m grader``: the ``dlgrade`` command (``grader.cli``)."""

import sys

from grader.cli import main

sys.exit(main())
