"""The ``dlgrade`` command's refusals: a bad argument is one line on stderr and exit status 2,
before anything is graded."""

import pytest

from grader.cli import EXIT_ERROR, EXIT_OK, main
from grader.course import PROJECT_ROOT

EXAMPLE = str(PROJECT_ROOT / "examples" / "submission")


@pytest.mark.parametrize("argv, says", [
    (["grade", "no/such/submission"], "does not exist"),
    (["grade", EXAMPLE, "--timeout", "0"], "timeouts must be a positive number of seconds"),
    (["grade", EXAMPLE, "--jobs", "0"], "jobs=0: give at least 1"),
    (["grade", EXAMPLE, "--settings", "{tmp}/settings.json", "--seed", "3"], "--settings gives every setting: do not also give --seed"),
    (["grade", EXAMPLE, "--settings", "{tmp}/missing.json"], "cannot read settings from"),
    (["grade", EXAMPLE, "--seed", "-1"], "non-negative integer"),
    (["grade", EXAMPLE, "--assignment", "a0_nothing"], "assignment 'a0_nothing' is not in the course"),
    (["batch", str(PROJECT_ROOT / "examples"), "--out", "{tmp}/out", "--shard", "3/2"], "K must be between 1 and N"),
    (["gradebook", "merge", "{tmp}/missing", "--out", "{tmp}/merged"], "missing"),
])
def test_bad_arguments_exit_2_with_one_message(argv, says, tmp_path, capsys):
    status = main([a.format(tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert status == EXIT_ERROR and says in err and err.startswith("dlgrade")
    assert not (tmp_path / "out").exists() and not (tmp_path / "merged").exists()


def test_unknown_formats_and_commands_are_usage_errors(capsys):
    for argv in (["grade", EXAMPLE, "--format", "pdf"], ["regrade"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_release_check_passes_on_the_course(capsys):
    assert main(["release", "--check"]) == EXIT_OK
    assert "stubs are up to date" in capsys.readouterr().out
