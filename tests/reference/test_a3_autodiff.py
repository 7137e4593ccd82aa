"""The a3_autodiff oracle (engine.py's Value) against torch.autograd, in float64.

Random expression graphs come from hypothesis: a few leaves, then a program of operations
whose operands are any earlier nodes (so nodes are reused, sometimes twice by one operation)
or Python numbers on either side. The same program runs on Values and on 0-dim float64 torch
tensors, which have the same operators and methods, and every node's data and grad is compared,
intermediate nodes included (torch keeps theirs through ``retain_grad``).

Tolerance: each node is one correctly rounded operation or one libm call, so the two agree to a
few ulps of the magnitudes involved: ``rtol=1e-10`` plus ``atol=1e-12`` times the largest |data|
(for data) or the largest |data| times the largest |grad| (for grads, sums of such products).
The programs keep every value within [-1e4, 1e4] and every operation inside its domain.
"""

import operator
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.loader import load_reference

RTOL = 1e-10
ATOL = 1e-12
BOUND = 1e4
DEPTH = 10_000

BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
UNARY = ["neg", "relu", "tanh", "exp", "log", "sigmoid", "pow"]
EXPONENTS = [2, 3, -1, -2, 0.5, 1.5, -0.5, 2.0]

LEAF = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
NUMBER = st.one_of(st.sampled_from([-3, -2, -1, 1, 2, 3]),
                   st.floats(0.25, 3), st.floats(-3, -0.25))
OPERAND = st.one_of(st.tuples(st.just("node"), st.integers(0, 1000)),
                    st.tuples(st.just("number"), NUMBER))
STEP = st.tuples(st.sampled_from(sorted(BINARY) + UNARY),
                 st.integers(0, 1000),  # the first operand: an earlier node, modulo their count
                 OPERAND,  # the second operand of a binary operation
                 st.booleans(),  # swap the operands: 2 - v rather than v - 2
                 st.sampled_from(EXPONENTS))
PROGRAMS = st.tuples(st.lists(LEAF, min_size=1, max_size=4),
                     st.lists(STEP, min_size=1, max_size=25))


@pytest.fixture(scope="module")
def engine():
    return load_reference("a3_autodiff", "engine")


def apply(op, a, b, swap, k):
    """One operation on Values or on torch tensors."""
    if op in BINARY:
        return BINARY[op](b, a) if swap else BINARY[op](a, b)
    if op == "neg":
        return -a
    if op == "pow":
        return a ** k
    return getattr(a, op)()


def data(x):
    """A Value's data, or the number itself."""
    return getattr(x, "data", x)


def keep_in_domain(op, a, b, swap, k):
    """(op, k), changed where a's data would take the operation outside its domain."""
    divisor = a if swap else b
    if op == "/" and abs(data(divisor)) < 0.25:
        return "*", k
    if op == "log" and a.data < 0.1:
        return "sigmoid", k
    if op == "exp" and a.data > 9:
        return "tanh", k
    if op == "pow" and (abs(a.data) < 0.25 or (k != int(k) and a.data < 0.1)):
        return op, 2
    return op, k


def run_program(engine, leaves, program):
    """The program's nodes as Values and as torch tensors, leaves first."""
    values = [engine.Value(x) for x in leaves]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    for op, i, (kind, operand), swap, k in program:
        i %= len(values)
        if kind == "node":
            b_value, b_tensor = values[operand % len(values)], tensors[operand % len(values)]
        else:
            b_value = b_tensor = operand
        op, k = keep_in_domain(op, values[i], b_value, swap, k)
        value = apply(op, values[i], b_value, swap, k)
        if not abs(value.data) <= BOUND:  # squash instead of growing without bound
            op = "tanh"
            value = apply(op, values[i], b_value, swap, k)
        tensor = apply(op, tensors[i], b_tensor, swap, k)
        tensor.retain_grad()
        values.append(value)
        tensors.append(tensor)
    return values, tensors


def assert_graph_matches_torch(values, tensors):
    __tracebackhide__ = True
    want_grads = [0.0 if t.grad is None else t.grad.item() for t in tensors]
    data_scale = max(1.0, max(abs(t.item()) for t in tensors))
    grad_scale = data_scale * max(1.0, max(abs(g) for g in want_grads))
    for n, (v, t, g) in enumerate(zip(values, tensors, want_grads)):
        assert isinstance(v.data, float) and isinstance(v.grad, float), f"node {n}: not floats"
        np.testing.assert_allclose(v.data, t.item(), rtol=RTOL, atol=ATOL * data_scale,
                                   err_msg=f"data of node {n} ({v._op or 'leaf'})")
        np.testing.assert_allclose(v.grad, g, rtol=RTOL, atol=ATOL * grad_scale,
                                   err_msg=f"grad of node {n} ({v._op or 'leaf'})")


@settings(max_examples=150, deadline=None)
@given(program=PROGRAMS)
def test_random_graphs_match_torch_autograd(engine, program):
    values, tensors = run_program(engine, *program)
    values[-1].backward()
    tensors[-1].backward()
    assert_graph_matches_torch(values, tensors)


def test_every_operation_matches_torch(engine):
    """Each operator and method once, with numbers on both sides, in one graph."""
    program = [(op, 0, ("node", 1), False, 2) for op in BINARY]
    program += [(op, 0, ("number", 2.5), swap, 2) for op in BINARY for swap in (False, True)]
    program += [(op, 1, ("number", 1), False, k) for op in UNARY for k in (3, 0.5, -1.5)]
    values, tensors = run_program(engine, [0.7, 1.3], program)
    sum(values[2:]).backward()  # sum() starts from 0: 0 + Value
    sum(tensors[2:]).backward()
    assert len(values) == 2 + 4 + 8 + 3 * len(UNARY)
    assert_graph_matches_torch(values, tensors)


def test_new_values_and_numbers_on_either_side(engine):
    V = engine.Value
    v = V(3)
    assert isinstance(v.data, float) and v.data == 3.0 and v.grad == 0.0
    cases = {  # expression: (data, d/dv) at v = 3
        "v + 2": (5.0, 1.0), "2 + v": (5.0, 1.0), "v - 2": (1.0, 1.0), "2 - v": (-1.0, -1.0),
        "v * 2": (6.0, 2.0), "2 * v": (6.0, 2.0), "v / 2": (1.5, 0.5), "6 / v": (2.0, -6 / 9),
        "-v": (-3.0, -1.0), "v ** 2": (9.0, 6.0), "v ** -1": (1 / 3, -1 / 9),
        "v ** 0.5": (3**0.5, 0.5 / 3**0.5), "v - 2.5 * v": (-4.5, -1.5),
    }
    for expr, (want_data, want_grad) in cases.items():
        v = V(3.0)
        out = eval(expr, {"v": v})
        assert isinstance(out, V), expr
        out.backward()
        assert out.data == pytest.approx(want_data, rel=1e-15), expr
        assert v.grad == pytest.approx(want_grad, rel=1e-15), expr
        assert v.data == 3.0, f"{expr} changed its operand"


@pytest.mark.parametrize("expr, want", [
    ("a * a", 2 * 1.5),  # one operation using a node twice
    ("a + a", 2.0),
    ("a - a", 0.0),
    ("a / a", 0.0),
    ("a * a * a", 3 * 1.5**2),
    ("(a * a) + (a * a) * (a * a)", 2 * 1.5 + 4 * 1.5**3),
    ("(a.tanh() * a.tanh()).exp() + a.tanh()", None),  # closed form from torch
])
def test_reused_nodes_accumulate_every_path(engine, expr, want):
    a = engine.Value(1.5)
    out = eval(expr, {"a": a})
    out.backward()
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    eval(expr, {"a": t}).backward()
    assert a.grad == pytest.approx(t.grad.item(), rel=1e-14, abs=1e-15)
    if want is not None:
        assert a.grad == pytest.approx(want, rel=1e-14, abs=1e-15)


def test_unary_methods_are_stable_at_large_magnitudes(engine):
    for x in (-1e4, -745.5, -40.0, 0.0, 40.0, 745.5, 1e4):
        for op in ("relu", "tanh", "sigmoid"):
            v = engine.Value(x)
            out = getattr(v, op)()
            out.backward()
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            want = getattr(t, op)()
            want.backward()
            assert np.isfinite(out.data) and np.isfinite(v.grad), (op, x)
            np.testing.assert_allclose([out.data, v.grad], [want.item(), t.grad.item()],
                                       rtol=RTOL, atol=1e-300, err_msg=f"{op}({x})")


def test_backward_through_a_10000_deep_chain(engine):
    """Deeper than Python's recursion limit: a recursive topological sort fails here."""
    assert DEPTH > sys.getrecursionlimit()
    x = engine.Value(0.5)
    y = x
    t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    yt = t
    for _ in range(DEPTH):  # y <- tanh(0.9 y + 0.2 x): x is reused at every level
        y = (y * 0.9 + 0.2 * x).tanh()
        yt = (yt * 0.9 + 0.2 * t).tanh()
    y.backward()
    yt.backward()
    np.testing.assert_allclose([y.data, x.grad], [yt.item(), t.grad.item()], rtol=1e-10)


def test_backward_through_a_10000_deep_sum_has_the_closed_form(engine):
    x = engine.Value(-1.25)
    y = x
    for _ in range(DEPTH):
        y = y + x
    z = y * y  # z = ((DEPTH + 1) x)^2, dz/dx = 2 (DEPTH + 1)^2 x
    z.backward()
    assert z.data == pytest.approx(((DEPTH + 1) * -1.25) ** 2, rel=1e-12)
    assert x.grad == pytest.approx(2 * (DEPTH + 1) ** 2 * -1.25, rel=1e-12)
    assert y.grad == pytest.approx(2 * y.data, rel=1e-15)
