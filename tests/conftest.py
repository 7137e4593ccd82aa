"""The harness's own tests: shared configuration."""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("xdist") is not None:

    def pytest_xdist_make_scheduler(config, log):  # type: ignore[no-untyped-def]
        """With ``-n``, tests marked ``xdist_group(name)`` run in one worker, so that the planted
        submissions of an assignment (``tests/assignments/test_planted.py``) are graded in one
        pytest run; the other tests are balanced as usual."""
        from xdist.scheduler import LoadGroupScheduling

        return LoadGroupScheduling(config, log)
