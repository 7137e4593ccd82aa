"""Public tests for losses.py: run them with ``pytest assignments/a1_foundations``.

Loss values are compared with PyTorch's ``torch.nn.functional`` (default reduction "mean"),
gradients with central differences of YOUR OWN loss (and with PyTorch's autograd at large
logits, where the losses must stay finite and accurate: |logits| up to 1e4).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, check_gradient, check_scalar_type, torch_one_thread
from grader import strategies as dl

# `student` is a function-scoped fixture that holds no per-example state: safe under @given
fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
# comparisons with torch cost a few ms an example: at most 40 examples (the hidden tests compare with the oracle)
torch_ok = settings(fixture_ok, max_examples=min(settings.default.max_examples, 40))
ANY_SHAPE = dl.shapes(ndim=st.integers(1, 3))
LARGE = 1e4


def with_torch_grad(loss_fn, first, *rest):
    """PyTorch's loss and its gradient with respect to ``first`` (float64), on one thread
    (``grader.torch_one_thread``)."""
    with torch_one_thread() as torch:
        z = torch.tensor(first, dtype=torch.float64, requires_grad=True)
        loss = loss_fn(z, *(torch.as_tensor(r) for r in rest))
        loss.backward()
        return float(loss.detach()), z.grad.numpy()


@st.composite
def same_shape_pairs(draw, magnitude=10.0):
    shape = draw(ANY_SHAPE)
    return draw(dl.arrays(shape, magnitude=magnitude)), draw(dl.arrays(shape, magnitude=magnitude))


@st.composite
def logits_and_targets(draw, magnitude=10.0):
    shape = draw(ANY_SHAPE)
    targets = st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0)
    t = np.array([draw(targets) for _ in range(int(np.prod(shape)))], dtype=np.float64).reshape(shape)
    return draw(dl.arrays(shape, magnitude=magnitude)), t


# ------------------------------------------------------------------------------------ MSE
@pytest.mark.points(2)
@torch_ok
@given(pair=same_shape_pairs())
def test_mse_loss_matches_torch(student, pair):
    import torch.nn.functional as F

    pred, target = pair
    loss, grad = student("losses.py").mse_loss(pred, target)
    want_loss, want_grad = with_torch_grad(F.mse_loss, pred, target)
    assert_close(loss, want_loss, what="mse_loss value")
    assert_close(grad, want_grad, what="mse_loss gradient")


@pytest.mark.points(1)
@fixture_ok
@given(pair=same_shape_pairs(), seed=SEEDS)
def test_mse_loss_gradient_matches_numerical_gradient(student, pair, seed):
    losses = student("losses.py")
    pred, target = pair
    _, grad = losses.mse_loss(pred, target)
    check_gradient(losses.mse_loss, {"pred": pred, "target": target}, {"pred": grad}, rng=np.random.default_rng(seed), pick=0, what="mse_loss gradient")


# ------------------------------------------------------------------------------------ BCE
@pytest.mark.points(2)
@torch_ok
@given(case=logits_and_targets())
def test_bce_with_logits_matches_torch(student, case):
    import torch.nn.functional as F

    z, t = case
    loss, grad = student("losses.py").bce_with_logits_loss(z, t)
    want_loss, want_grad = with_torch_grad(F.binary_cross_entropy_with_logits, z, t)
    assert_close(loss, want_loss, what="bce_with_logits_loss value")
    assert_close(grad, want_grad, what="bce_with_logits_loss gradient")


@pytest.mark.points(2)
@torch_ok
@given(case=logits_and_targets(magnitude=LARGE))
def test_bce_with_logits_is_stable_for_large_logits(student, case):
    import torch.nn.functional as F

    z, t = case
    logits, targets = [LARGE, -LARGE, LARGE, -LARGE, 50.0, -50.0], [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    called = f"called on z.ravel() followed by the logits {logits}, t.ravel() followed by the targets {targets}"
    loss, grad = student("losses.py").bce_with_logits_loss(np.concatenate([z.ravel(), logits]), np.concatenate([t.ravel(), targets]))
    want_loss, want_grad = with_torch_grad(F.binary_cross_entropy_with_logits, np.concatenate([z.ravel(), logits]), np.concatenate([t.ravel(), targets]))
    assert_close(loss, want_loss, what=f"bce_with_logits_loss value at |logits| up to 1e4 ({called})")
    grad = check_array_type(grad, want_grad.shape, what=f"bce_with_logits_loss gradient ({called})")
    assert_close(grad[: z.size].reshape(z.shape), want_grad[: z.size].reshape(z.shape), what=f"bce_with_logits_loss gradient for z ({called})")
    assert_close(grad[z.size :], want_grad[z.size :], what=f"bce_with_logits_loss gradient for the appended logits {logits}")


@pytest.mark.points(1)
@fixture_ok
@given(case=logits_and_targets(), seed=SEEDS)
def test_bce_with_logits_gradient_matches_numerical_gradient(student, case, seed):
    losses = student("losses.py")
    z, t = case
    _, grad = losses.bce_with_logits_loss(z, t)
    check_gradient(
        losses.bce_with_logits_loss, {"logits": z, "target": t}, {"logits": grad},
        rng=np.random.default_rng(seed), pick=0, what="bce_with_logits_loss gradient",
    )


# ---------------------------------------------------------------------- cross-entropy
@pytest.mark.points(2)
@torch_ok
@given(case=dl.logits_and_labels())
def test_softmax_cross_entropy_matches_torch(student, case):
    import torch.nn.functional as F

    logits, labels = case
    loss, grad = student("losses.py").softmax_cross_entropy_loss(logits, labels)
    want_loss, want_grad = with_torch_grad(F.cross_entropy, logits, labels)
    assert_close(loss, want_loss, what="softmax_cross_entropy_loss value")
    assert_close(grad, want_grad, what="softmax_cross_entropy_loss gradient")


@pytest.mark.points(2)
@torch_ok
@given(case=dl.logits_and_labels(magnitude=LARGE))
def test_softmax_cross_entropy_is_stable_for_large_logits(student, case):
    import torch.nn.functional as F

    logits, labels = case
    loss, grad = student("losses.py").softmax_cross_entropy_loss(logits, labels)
    want_loss, want_grad = with_torch_grad(F.cross_entropy, logits, labels)
    assert_close(loss, want_loss, what="softmax_cross_entropy_loss value at |logits| up to 1e4")
    assert_close(grad, want_grad, what="softmax_cross_entropy_loss gradient at |logits| up to 1e4")


@pytest.mark.points(1)
def test_softmax_cross_entropy_of_1000_0_minus_1000(student):
    losses = student("losses.py")
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    loss, grad = losses.softmax_cross_entropy_loss(logits, np.array([2, 0]))
    assert_close(loss, 1000.0, what="loss of logits [1000, 0, -1000] with labels 2 and 0 (2000 and 0, mean 1000)")
    assert_close(grad, np.array([[0.5, 0.0, -0.5], [0.0, 0.0, 0.0]]), what="its gradient")


@pytest.mark.points(1)
@fixture_ok
@given(case=dl.logits_and_labels(), seed=SEEDS)
def test_softmax_cross_entropy_gradient_matches_numerical_gradient(student, case, seed):
    losses = student("losses.py")
    logits, labels = case
    _, grad = losses.softmax_cross_entropy_loss(logits, labels)
    check_gradient(
        losses.softmax_cross_entropy_loss, {"logits": logits}, {"logits": grad}, kwargs={"labels": labels},
        rng=np.random.default_rng(seed), pick=0, what="softmax_cross_entropy_loss gradient",
    )


@pytest.mark.points(1)
def test_softmax_cross_entropy_with_a_single_example(student):
    losses = student("losses.py")
    loss, grad = losses.softmax_cross_entropy_loss(np.array([[0.0, np.log(3.0)]]), np.array([1]))
    assert_close(loss, -np.log(0.75), what="loss of one example, probabilities [1/4, 3/4], label 1")
    assert_close(grad, np.array([[0.25, -0.25]]), what="its gradient")


# ------------------------------------------------------------------------------ contract
CALLS = [
    ("mse_loss", lambda r: (r.standard_normal((4, 3)), r.standard_normal((4, 3)))),
    ("bce_with_logits_loss", lambda r: (r.standard_normal((4, 3)) * 5, r.uniform(0, 1, (4, 3)))),
    ("softmax_cross_entropy_loss", lambda r: (r.standard_normal((4, 3)) * 5, np.array([0, 2, 1, 2]))),
]


@pytest.mark.points(1)
@pytest.mark.parametrize("name, make", CALLS, ids=[c[0] for c in CALLS])
def test_losses_return_a_float_and_a_gradient_and_leave_arguments_unmodified(student, rng, name, make):
    losses = student("losses.py")
    first, second = make(rng)
    shared = losses.share(first.copy()), losses.share(second.copy())
    loss, grad = getattr(losses, name)(*shared)
    check_scalar_type(loss, what=f"{name} loss")
    check_array_type(grad, first.shape, what=f"{name} gradient")
    assert np.array_equal(losses.fetch(shared[0]), first), f"{name} modified its first argument"
    assert np.array_equal(losses.fetch(shared[1]), second), f"{name} modified its second argument"


@pytest.mark.points(2)
def test_losses_import_no_banned_library_and_run(student, rng):
    """numpy only (no torch, scipy, ...); and the file must be implemented: every loss runs."""
    losses = student("losses.py")
    losses.assert_no_banned_imports()
    for name, make in CALLS:
        getattr(losses, name)(*make(rng))
