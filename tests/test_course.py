"""The course's conventions: where a file belongs, hidden tests, oracles, submission layouts."""


from grader.course import Course


def test_a_course_below_a_folder_named_assignments_is_found(tmp_path):
    root = tmp_path / "assignments" / "course"
    test = root / "assignments" / "a1" / "hidden" / "test_x.py"
    test.parent.mkdir(parents=True)
    test.write_text("")
    course, assignment = Course.containing(test)
    assert (course.root, assignment) == (root, "a1")
    assert course.is_hidden(test)
    assert not course.is_hidden(root / "assignments" / "hidden" / "test_y.py")  # an assignment named hidden
    assert Course.containing(tmp_path / "elsewhere" / "test_z.py") is None


def test_oracles_come_from_the_course_and_notebooks_have_a_py_oracle(tmp_path):
    course = Course(tmp_path)
    assert course.oracle("a4", "init.ipynb") == tmp_path / "reference" / "a4" / "init.py"
    assert course.oracle("a1", "activations") == tmp_path / "reference" / "a1" / "activations.py"


def test_submission_layouts(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    nested = tmp_path / "nested"
    (nested / "assignments").mkdir(parents=True)
    assert Course.submitted_assignments(flat) == flat
    assert Course.submitted_assignments(nested) == nested / "assignments"
    (flat / "assignments").symlink_to(nested)  # a link is never followed
    assert Course.submitted_assignments(flat) == flat
