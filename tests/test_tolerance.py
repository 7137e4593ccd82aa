"""assert_close: type, dtype and shape checks first; NaN never equal; tolerance as documented."""

import numpy as np
import pytest

from grader.tolerance import ATOL, RTOL, assert_close


class LyingArray(np.ndarray):
    """An ndarray subclass whose comparisons always say 'equal'."""

    def __eq__(self, other):  # noqa: D105
        return np.ones(np.shape(self), dtype=bool)


class LooksEqual:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


def test_equal_arrays_pass():
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    assert_close(x.copy(), x)


def test_float64_reordering_noise_passes():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 40))
    assert_close(x.sum(axis=1), np.array([sum(sorted(row)) for row in x]))


@pytest.mark.parametrize(
    "actual, message",
    [
        (np.zeros(3, dtype=np.float32), "dtype float64"),
        (np.zeros((3, 1)), "shape (3,)"),
        ([0.0, 0.0, 0.0], "got list"),
        (np.zeros(3).view(LyingArray), "subclass"),
        (LooksEqual(), "got LooksEqual"),
        (np.array([0.0, np.nan, 0.0]), "NaN and inf are never correct"),
        (np.array([0.0, np.inf, 0.0]), "NaN and inf are never correct"),
        (np.array([0.0, 1e-5, 0.0]), "1 of 3 entries differ"),
    ],
    ids=["float32", "shape", "list", "subclass", "lookalike", "nan", "inf", "value"],
)
def test_rejects(actual, message):
    with pytest.raises(AssertionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        assert_close(actual, np.zeros(3))


def test_nan_is_not_equal_to_nan():
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan]), np.array([np.nan]))


def test_relative_tolerance_boundary():
    expected = np.array([1000.0])
    assert_close(expected * (1 + 0.5 * RTOL), expected)
    with pytest.raises(AssertionError, match="worst"):
        assert_close(expected * (1 + 3 * RTOL), expected)


def test_absolute_tolerance_and_scale():
    assert_close(np.array([0.5 * ATOL]), np.array([0.0]))
    with pytest.raises(AssertionError):
        assert_close(np.array([1e-7]), np.array([0.0]))
    assert_close(np.array([1e-7]), np.array([0.0]), scale=1.0)


def test_scalars():
    assert_close(1.0, 1.0)
    assert_close(np.float64(2.0), 2.0)
    assert_close(np.array(3.0), 3.0)
    assert_close(np.float64(3.0), np.array(3.0))  # a reduction's scalar against a 0-d oracle
    with pytest.raises(AssertionError, match="expected a float"):
        assert_close(np.float32(1.0), 1.0)
    with pytest.raises(AssertionError, match="expected a float"):
        assert_close(np.array([1.0]), 1.0)
    with pytest.raises(AssertionError, match="NaN"):
        assert_close(float("nan"), 1.0)


@pytest.mark.parametrize("whole", [0, 3, -2, np.int64(3), np.int32(-2), np.uint8(0)], ids=repr)
def test_an_integer_of_the_right_value_is_a_float(whole):
    assert_close(whole, float(whole))
    assert_close(whole, np.array(float(whole)))
    with pytest.raises(AssertionError, match="worst"):
        assert_close(whole, float(whole) + 0.5)


@pytest.mark.parametrize("actual", [True, np.bool_(False), 10**400, np.array(1), np.array([1])], ids=repr)
def test_booleans_huge_integers_and_integer_arrays_are_not_floats(actual):
    with pytest.raises(AssertionError, match="expected a float|too large"):
        assert_close(actual, 1.0)


def test_message_names_worst_entry():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    actual[0, 0] = 1e-3
    with pytest.raises(AssertionError, match=r"2 of 6 entries differ; worst at index \(1, 2\): expected 0, got 0.5"):
        assert_close(actual, expected)


def test_where_keeps_the_index_of_the_students_array_that_a_masked_copy_loses():
    """relu_backward's dx compared away from the kinks (x == 0): comparing ``dx[~kink]`` named an
    entry of that 1-D copy; ``where=~kink`` names the entry of dx itself, and the kinks are free."""
    x = np.array([[0.0, 1.0, -2.0], [3.0, 0.0, 4.0]])
    dout = np.arange(1.0, 7.0).reshape(2, 3)
    dx = np.where(x > 0, dout, 0.0)
    dx[1, 2] = 0.0  # the bug: one entry of dx
    dx[0, 0] = np.nan  # at a kink: any value is accepted there
    kink = x == 0
    want = np.where(x > 0, dout, 0.0)
    with pytest.raises(AssertionError, match=r"1 of 4 entries differ; worst at index \(3,\): expected 6, got 0"):
        assert_close(dx[~kink], want[~kink])  # before: index 3 of a copy the student never saw
    with pytest.raises(AssertionError, match=r"1 of 4 entries differ; worst at index \(1, 2\): expected 6, got 0"):
        assert_close(dx, want, where=~kink)  # after: dx[1, 2]
    dx[1, 2] = 6.0
    assert_close(dx, want, where=~kink)


@pytest.mark.parametrize(("where", "error", "message"), [(np.ones(4, dtype=bool), ValueError, "does not broadcast"), (np.ones((2, 3)), TypeError, "boolean mask")])
def test_where_must_be_a_mask_of_the_shape(where, error, message):
    with pytest.raises(error, match=message):
        assert_close(np.zeros((2, 3)), np.zeros((2, 3)), where=where)
