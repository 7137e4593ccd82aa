"""Hidden tests for losses.py: the student against the reference oracle (instructor only).

Batches of one and more, N != C and N == C, targets 0, 1 and in between, logits up to 1e4.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close
from grader import strategies as dl

fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SHAPES = dl.shapes(ndim=st.integers(1, 3), min_batch=1)
MAGNITUDES = st.sampled_from([1.0, 10.0, 1e4])


def _compare(got, want, name, scale=1.0):
    __tracebackhide__ = True
    assert_close(got[0], want[0], scale=scale, what=f"{name} value")
    assert_close(got[1], want[1], what=f"{name} gradient")


@pytest.mark.points(2)
@fixture_ok
@given(data=st.data(), magnitude=MAGNITUDES)
def test_mse_loss_matches_reference(student, reference, data, magnitude):
    shape = data.draw(SHAPES)
    pred = data.draw(dl.arrays(shape, magnitude=magnitude))
    target = data.draw(dl.arrays(shape, magnitude=magnitude))
    _compare(student("losses.py").mse_loss(pred, target), reference("losses.py").mse_loss(pred, target), "mse_loss")


@pytest.mark.points(2)
@fixture_ok
@given(data=st.data(), magnitude=MAGNITUDES)
def test_bce_with_logits_matches_reference(student, reference, data, magnitude):
    shape = data.draw(SHAPES)
    z = data.draw(dl.arrays(shape, magnitude=magnitude))
    t = data.draw(st.sampled_from(["hard", "soft"]))
    target = data.draw(dl.arrays(shape, magnitude=1.0))
    target = (target > 0).astype(np.float64) if t == "hard" else np.abs(target)
    _compare(student("losses.py").bce_with_logits_loss(z, target), reference("losses.py").bce_with_logits_loss(z, target), "bce_with_logits_loss")


@pytest.mark.points(2)
@fixture_ok
@given(case=dl.logits_and_labels(max_batch=7, max_classes=7), magnitude=MAGNITUDES)
def test_softmax_cross_entropy_matches_reference(student, reference, case, magnitude):
    logits, labels = case
    logits = logits / 10.0 * magnitude
    got = student("losses.py").softmax_cross_entropy_loss(logits, labels)
    _compare(got, reference("losses.py").softmax_cross_entropy_loss(logits, labels), "softmax_cross_entropy_loss")


@pytest.mark.points(1)
@fixture_ok
@given(n=st.integers(1, 5), magnitude=MAGNITUDES, seed=st.integers(0, 2**32 - 1))
def test_softmax_cross_entropy_on_square_logits_and_single_examples(student, reference, n, magnitude, seed):
    rng = np.random.default_rng(seed)
    logits = rng.uniform(-magnitude, magnitude, (n, n if n > 1 else 3))
    labels = rng.integers(0, logits.shape[1], n)
    got = student("losses.py").softmax_cross_entropy_loss(logits, labels)
    _compare(got, reference("losses.py").softmax_cross_entropy_loss(logits, labels), "softmax_cross_entropy_loss")
