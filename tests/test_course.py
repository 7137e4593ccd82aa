"""The course's conventions: where a file belongs, hidden tests, oracles, submission layouts."""

import textwrap

from grader.course import MODULE, PROJECT_ROOT, Course


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


def test_the_tests_of_a_function_follow_the_stated_rule():
    """On a1: a function's own tests, its users' tests (softmax_cross_entropy_loss calls
    log_softmax), nothing else; code outside every function is covered by every test."""
    course, a1 = Course(PROJECT_ROOT), "a1_foundations"
    of_relu_backward = course.tests_of(a1, {"relu_backward"})
    assert {"test_relu_backward_matches_numerical_gradient", "test_relu_matches_reference"} <= of_relu_backward
    assert not {"test_mse_loss_matches_torch", "test_sigmoid_forward_values"} & of_relu_backward
    assert "test_softmax_cross_entropy_matches_torch" in course.tests_of(a1, {"log_softmax"})
    assert "test_softmax_cross_entropy_matches_torch" not in course.tests_naming(a1, {"log_softmax"})  # only through its user
    assert "test_softmax_cross_entropy_matches_torch" not in course.tests_of(a1, {"tanh_forward"})
    assert course.tests_of(a1, {MODULE}) == course.test_functions(a1)


def test_tests_name_through_their_helpers_and_a_release_uses_its_stubs(tmp_path):
    """A test names what its helpers name; without ``reference/`` the uses come from the stubs."""
    folder = tmp_path / "assignments" / "a0"
    (folder / "hidden").mkdir(parents=True)
    (folder / "calc.py").write_text("def half(x):\n    raise NotImplementedError\n\n\ndef quarter(x):\n    return half(half(x))\n")
    (folder / "test_calc.py").write_text(textwrap.dedent("""
        def check(student):
            return student("calc.py").half(2)

        def test_half(student):
            assert check(student) == 1

        def test_nothing(student):
            pass
        """))
    (folder / "hidden" / "test_calc_hidden.py").write_text("def test_quarter(student):\n    student('calc.py').quarter(4)\n")
    course = Course(tmp_path)
    assert course.is_student_release and course.test_functions("a0") == {"test_half", "test_nothing", "test_quarter"}
    assert course.tests_naming("a0", {"half"}) == {"test_half"}
    assert course.tests_of("a0", {"half"}) == {"test_half", "test_quarter"}  # quarter uses half
    assert course.student_notebooks("a0") == []
