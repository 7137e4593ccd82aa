"""The harness's own tests: shared configuration."""

from __future__ import annotations

from typing import Any

import pytest

PLANTED = "tests/assignments/test_planted.py::"


def work_unit(nodeid: str) -> str:
    """What one pytest-xdist worker runs together: all the planted checks of one assignment
    (``test_planted.py``: they share one grading run, ``[<assignment>-<variant>]``), and every
    other test with the rest of its module (a module's fixtures are then set up once)."""
    if nodeid.startswith(PLANTED) and "[" in nodeid:
        return PLANTED + nodeid.split("[", 1)[1].split("-", 1)[0].rstrip("]")
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n``, schedule by ``work_unit``, the largest units first."""
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByWorkUnit(config, log)
