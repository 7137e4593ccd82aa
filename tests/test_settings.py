"""The run's settings: profile defaults from one table, precedence CLI > environment > ini > profile."""

import dataclasses
import json
from pathlib import Path

import pytest

from grader.settings import DEFAULT_BUDGET, DEFAULT_TIMEOUT, PROFILES, Settings

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


def test_settings_written_to_a_file_read_back_equal(tmp_path):
    settings = Settings.grading(seed=3, budget=None, shrink=False, submission=tmp_path, results_file=tmp_path / "r.json", jobs=1, judge_memory_bytes=None)
    assert Settings.read(settings.write(tmp_path / "settings.json")) == settings
    assert Settings() == Settings(profile="student", isolation="inprocess", sandbox=False, timeout=DEFAULT_TIMEOUT, budget=DEFAULT_BUDGET)
    assert Settings.grading().max_examples == PROFILES["grade"].max_examples


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"isolation": "inprocess"}, "sandbox=on needs isolation=worker"),
        ({"seed": -1}, "seed=-1: give a non-negative integer"),
        ({"seed": 1.5}, "seed=1.5: give a non-negative integer"),
        ({"timeout": 0}, "timeout=0: timeouts must be a positive number of seconds"),
        ({"assignment_timeout": -1.0}, "assignment_timeout=-1.0: timeouts must be"),
        ({"budget": 0.0}, "budget=0.0 must be a positive number of seconds, or off"),
        ({"jobs": 0}, "jobs=0: give at least 1"),
        ({"profile": "exam"}, "profile='exam' is not one of student, grade"),
        ({"submission": Path("/s"), "against_reference": True}, "not both"),
        ({"plan": Path("/p"), "against_reference": True}, "a plan lists the submissions"),
    ],
)
def test_contradictory_or_out_of_range_settings_are_refused_saying_which(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Settings.grading(**changes)


def test_a_settings_file_with_unknown_fields_or_bad_values_is_refused(tmp_path):
    values = json.loads(Settings.grading().write(tmp_path / "s.json").read_text())
    (tmp_path / "unknown.json").write_text(json.dumps({**values, "examples": 5}))
    with pytest.raises(ValueError, match="not a settings file .unknown: examples."):
        Settings.read(tmp_path / "unknown.json")
    (tmp_path / "bad.json").write_text(json.dumps({**values, "timeout": -3}))
    with pytest.raises(ValueError, match="timeout=-3"):
        Settings.read(tmp_path / "bad.json")


def test_a_settings_file_gives_the_whole_run_and_no_other_option_may_join_it(pytester, tmp_path):
    pytester.makeconftest(SHOW)
    settings = Settings.grading(seed=11, timeout=7.0, budget=3.0, sandbox=False)
    path = settings.write(tmp_path / "settings.json")
    result = pytester.runpytest("-p", "no:cacheprovider", "--co", "--dlgrade-settings", str(path))
    assert f"settings: grade worker sandbox=False examples={PROFILES['grade'].max_examples} seed=11 timeout=7 budget=3.0" in result.stdout.lines
    mixed = pytester.runpytest("-p", "no:cacheprovider", "--co", "--dlgrade-settings", str(path), "--dlgrade-seed", "2")
    assert mixed.ret != 0
    mixed.stderr.fnmatch_lines(["*--dlgrade-settings gives every setting: do not also give --dlgrade-seed*"])
    dataclasses.replace(settings, submission=tmp_path / "nowhere").write(path)
    missing = pytester.runpytest("-p", "no:cacheprovider", "--co", "--dlgrade-settings", str(path))
    assert missing.ret != 0
    missing.stderr.fnmatch_lines(["*is not a directory*"])
