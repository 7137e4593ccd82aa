"""Reading a roster file: GitHub Classroom's column names and short ones, clear refusals."""

import pytest

from grader.roster import Entry, RosterError, read_roster


def test_classroom_and_short_column_names(tmp_path):
    classroom = tmp_path / "classroom.csv"
    classroom.write_text("roster_identifier,github_username,student_repository_url,sha\nid1,ada,https://x/ada.git,abc123\n,,,\n")
    short = tmp_path / "short.csv"
    short.write_text("Student, Repository\nbob , /srv/bob\n")
    assert read_roster(classroom) == [Entry("ada", "https://x/ada.git", "abc123")]  # github_username before roster_identifier
    assert read_roster(short) == [Entry("bob", "/srv/bob", "")]


def test_a_roster_without_a_needed_column_is_refused(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("student,commit\nada,abc\n")
    with pytest.raises(RosterError, match="no repository column"):
        read_roster(path)
    with pytest.raises(RosterError, match="cannot be read"):
        read_roster(tmp_path / "missing.csv")
