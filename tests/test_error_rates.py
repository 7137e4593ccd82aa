"""The published error-rate table lists the variants and tests that the project's test run grades."""

import subprocess
import sys

from tests.planted import ROOT


def test_the_published_error_rates_are_current():
    run = subprocess.run([sys.executable, "-m", "tests.error_rates", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{run.stdout}{run.stderr[-3000:]}"
