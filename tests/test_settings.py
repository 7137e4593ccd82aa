"""The run's settings: profile defaults from one table, precedence CLI > environment > ini > profile."""

import pytest

from grader.settings import DEFAULT_BUDGET, DEFAULT_TIMEOUT, PROFILES

pytest_plugins = ["pytester"]

SHOW = """
from grader.settings import SETTINGS_KEY

def pytest_report_header(config):
    s = config.stash[SETTINGS_KEY]
    return f"settings: {s.profile} {s.isolation} sandbox={s.sandbox} examples={s.max_examples} seed={s.seed} timeout={s.timeout:g} budget={s.budget}"
"""


@pytest.fixture
def run(pytester, monkeypatch):
    for name in ("DLGRADE_PROFILE", "DLGRADE_SEED", "DLGRADE_TIMEOUT", "DLGRADE_BUDGET"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeconftest(SHOW)

    def settings_line(*args):
        result = pytester.runpytest("-p", "no:cacheprovider", "--co", *args)
        [line] = [line for line in result.stdout.lines if line.startswith("settings:")]
        return line

    return settings_line


def test_profile_defaults_come_from_the_table(run):
    grade = PROFILES["grade"]
    assert run("--dlgrade-profile", "grade") == f"settings: grade {grade.isolation} sandbox={grade.sandbox} examples={grade.max_examples} seed=0 timeout={DEFAULT_TIMEOUT:g} budget={DEFAULT_BUDGET}"
    student = PROFILES["student"]
    assert run().startswith(f"settings: student {student.isolation} sandbox=False examples={student.max_examples} seed=")


def test_command_line_beats_environment_beats_ini(run, pytester, monkeypatch):
    pytester.makeini("[pytest]\ndlgrade_seed = 7\ndlgrade_timeout = 30\ndlgrade_budget = 45\n")
    assert run().endswith("seed=7 timeout=30 budget=45.0")
    monkeypatch.setenv("DLGRADE_SEED", "8")
    monkeypatch.setenv("DLGRADE_BUDGET", "off")
    assert run().endswith("seed=8 timeout=30 budget=None")
    assert run("--dlgrade-seed", "9", "--dlgrade-timeout", "5", "--dlgrade-budget", "12.5").endswith("seed=9 timeout=5 budget=12.5")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--dlgrade-isolation", "inprocess", "--dlgrade-sandbox", "on"), "sandbox=on needs isolation=worker"),
        (("--dlgrade-submission", "/does/not/exist"), "is not a directory"),
        (("--dlgrade-seed", "x"), None),  # argparse refuses a non-integer seed itself
        (("--dlgrade-budget", "0"), "budget='0' must be a positive number of seconds, or off"),
        (("--dlgrade-budget", "soon"), "budget='soon' must be a positive number of seconds, or off"),
    ],
)
def test_contradictions_are_refused_with_a_message(pytester, args, message):
    result = pytester.runpytest("-p", "no:cacheprovider", "--co", *args)
    assert result.ret != 0
    if message:
        result.stderr.fnmatch_lines([f"*{message}*"])
