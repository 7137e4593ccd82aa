"""Public tests for a3_autodiff: your scalar reverse-mode engine, ``engine.py``.

Run them with ``pytest assignments/a3_autodiff``.

How your engine is checked, without any other autodiff library:

* Each test builds a small expression graph with your ``Value`` from a *program*: a list of
  steps such as ``n2 = n0 * n1``, ``n3 = 2.5 - n2``, ``n4 = n3.tanh()``, where every step may
  reuse any earlier node (sometimes twice) or put a Python number on either side. It calls
  ``backward()`` on the last node and compares the ``.data`` and ``.grad`` of EVERY node,
  intermediate ones included, with values the test computes itself on plain floats: each step's
  value and local derivatives from ``math``, the chain rule applied in the program's own order.
* When a check fails, the message shows the graph as such a program; Hypothesis has already
  shrunk it to the smallest failing one it found.
* Tolerance: six significant digits relative to the largest magnitude in the graph (the course's
  accuracy rule), so a different but valid order of operations never fails.
* The programs keep every value in ``[-1e4, 1e4]``, take ``log`` of positive numbers only, divide
  only by numbers at least 0.25 in size, raise only positive bases to fractional powers and stay
  away from ReLU's kink at 0 (its own test accepts any subgradient there).
* Graphs of several operations use only the methods (``relu``, ``tanh``, ...) your ``Value`` has,
  a missing one replaced by ``-n``: a method you have not written yet costs its own test only.
* Whole numbers may be Python ints (``self.grad = 0``): ``0`` is as good as ``0.0``.
"""

from __future__ import annotations

import math
from collections.abc import Collection
import operator
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import assert_close

BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
METHODS = ("relu", "tanh", "exp", "log", "sigmoid")
EXPONENTS = (2, 3, -1, -2, 0, 1, 0.5, 1.5, -0.5, 2.5)
BOUND = 1e4

# ---------------------------------------------------------------------------------------------
# programs: what the graph is, evaluated on floats by the test itself


@dataclass(frozen=True)
class Step:
    """One operation: ``op`` on node ``a`` and ``b`` (a node index when ``b_is_node``, else a
    number), with ``b`` on the left when ``swap``; ``k`` is the exponent of ``**``.

    ``op`` is one of ``+ - * /``, ``neg``, ``**`` or a method name (``graph_runner.py`` runs it).
    """

    op: str
    a: int
    b: float = 1.0
    b_is_node: bool = False
    swap: bool = False
    k: float = 2

    def as_tuple(self) -> tuple[str, int, float, bool, bool, float]:
        return (self.op, self.a, self.b, self.b_is_node, self.swap, self.k)

    def text(self) -> str:
        a, b = f"n{self.a}", (f"n{int(self.b)}" if self.b_is_node else repr(self.b))
        if self.op in BINARY:
            return f"{b} {self.op} {a}" if self.swap else f"{a} {self.op} {b}"
        if self.op == "neg":
            return f"-{a}"
        if self.op == "**":
            return f"{a} ** {self.k!r}"
        return f"{a}.{self.op}()"


def local(op: str, a: float, b: float, k: float) -> tuple[float, float, float]:
    """``(value, d value / d a, d value / d b)`` of one operation on floats."""
    if op == "+":
        return a + b, 1.0, 1.0
    if op == "-":
        return a - b, 1.0, -1.0
    if op == "*":
        return a * b, b, a
    if op == "/":
        return a / b, 1.0 / b, -a / (b * b)
    if op == "neg":
        return -a, -1.0, 0.0
    if op == "**":
        return a**k, k * a ** (k - 1), 0.0
    if op == "relu":
        return max(a, 0.0), 1.0 if a > 0 else 0.0, 0.0
    if op == "tanh":
        t = math.tanh(a)
        return t, 1.0 - t * t, 0.0
    if op == "exp":
        e = math.exp(a)
        return e, e, 0.0
    if op == "log":
        return math.log(a), 1.0 / a, 0.0
    if op == "sigmoid":
        s = 1.0 / (1.0 + math.exp(-a))  # |a| <= 30 in every program
        return s, s * (1.0 - s), 0.0
    raise ValueError(op)


@dataclass(frozen=True)
class Program:
    """Leaves, then steps; ``data`` and ``grads`` are every node's, computed on floats."""

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]
    data: tuple[float, ...]
    grads: tuple[float, ...]

    def text(self) -> str:
        lines = [f"n{i} = Value({x!r})" for i, x in enumerate(self.leaves)]
        lines += [f"n{len(self.leaves) + i} = {s.text()}" for i, s in enumerate(self.steps)]
        lines.append(f"n{len(self.data) - 1}.backward()")
        return "\n".join("    " + line for line in lines)


def evaluate(leaves: tuple[float, ...], steps: tuple[Step, ...]) -> Program:
    """The program's data and, by the chain rule in reverse program order, every node's grad."""
    data = list(leaves)
    parents: list[list[tuple[int, float]]] = [[] for _ in leaves]
    for s in steps:
        a = data[s.a]
        b = data[int(s.b)] if s.b_is_node else float(s.b)
        if s.swap and s.op in BINARY:
            out, db, da = local(s.op, b, a, s.k)
        else:
            out, da, db = local(s.op, a, b, s.k)
        edges = [(s.a, da)]
        if s.b_is_node and s.op in BINARY:
            edges.append((int(s.b), db))
        data.append(out)
        parents.append(edges)
    grads = [0.0] * len(data)
    grads[-1] = 1.0
    for i in range(len(data) - 1, -1, -1):
        for j, d in parents[i]:
            grads[j] += grads[i] * d
    return Program(tuple(leaves), tuple(steps), tuple(data), tuple(grads))


def in_domain(step: Step, data: list[float]) -> Step:
    """``step``, changed where it would leave the tested domain (see the module docstring)."""
    a = data[step.a]
    b = data[int(step.b)] if step.b_is_node else float(step.b)
    op, k = step.op, step.k
    if op == "/" and abs(a if step.swap else b) < 0.25:
        op = "*"
    elif op == "log" and a < 0.1:
        op = "sigmoid"
    elif op == "exp" and a > 9:
        op = "tanh"
    elif op == "relu" and abs(a) < 1e-3:
        op = "tanh"
    elif op == "**" and (abs(a) < 0.25 or (k != int(k) and a < 0.25)):
        k = 2
    if op in ("tanh", "sigmoid") and abs(a) > 30:
        op = "neg"
    step = Step(op, step.a, step.b, step.b_is_node, step.swap and op in BINARY, k)
    if op in BINARY or op == "**":
        out = local(op, b, a, k)[0] if step.swap else local(op, a, b, k)[0]
        if not abs(out) <= BOUND:
            step = Step("neg", step.a)
    return step


def make_program(leaves: list[float], raw_steps: list[Step], methods: Collection[str] = METHODS) -> Program:
    """Resolve node indices modulo the nodes so far, keep every step in the domain, evaluate;
    a method not among ``methods`` becomes ``neg``."""
    steps: list[Step] = []
    data = list(leaves)
    for raw in raw_steps:
        n = len(data)
        b = int(raw.b) % n if raw.b_is_node else raw.b
        step = in_domain(Step(raw.op, raw.a % n, b, raw.b_is_node, raw.swap, raw.k), data)
        if step.op in METHODS and step.op not in methods:
            step = Step("neg", step.a)
        steps.append(step)
        data = list(evaluate(tuple(leaves), tuple(steps)).data)
    return evaluate(tuple(leaves), tuple(steps))


LEAF = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
NUMBER = st.one_of(
    st.sampled_from([-3, -2, -1, 1, 2, 3]),
    st.floats(0.25, 3),
    st.floats(-3, -0.25),
)


# a node index: often one of the last three nodes (chains in which a node meets its own
# descendants: n3 = n1 * n2 with n2 computed from n1), otherwise any node (modulo the count)
NODE_INDEX = st.one_of(st.integers(-3, -1), st.integers(0, 1000))


@st.composite
def steps_of(draw: st.DrawFn, ops: list[str]) -> Step:
    b_is_node = draw(st.booleans())
    return Step(
        op=draw(st.sampled_from(ops)),
        a=draw(NODE_INDEX),
        b=draw(NODE_INDEX) if b_is_node else draw(NUMBER),
        b_is_node=b_is_node,
        swap=draw(st.booleans()),
        k=draw(st.sampled_from(EXPONENTS)),
    )


ALL_OPS = [*BINARY, "neg", "**", *METHODS]
LEAVES = st.lists(LEAF, min_size=1, max_size=4)
RAW_STEPS = st.lists(steps_of(ALL_OPS), min_size=1, max_size=15)

# ---------------------------------------------------------------------------------------------
# running a program on the student's Value


def run(student, helper, program: Program) -> None:
    """Run ``program`` on the student's Value (``graph_runner.py`` does it where their code runs)
    and compare every node's ``.data`` and ``.grad`` with the program's, to six digits."""
    __tracebackhide__ = True
    engine, runner = student("engine.py"), helper("graph_runner.py")
    data, grads = runner.run_program(engine.Value(0.0), list(program.leaves), [s.as_tuple() for s in program.steps])
    data_scale = max(1.0, max(abs(x) for x in program.data))
    grad_scale = data_scale * max(1.0, max(abs(g) for g in program.grads))
    try:
        for i, (got, want) in enumerate(zip(data, program.data)):
            assert_close(got, want, scale=data_scale, what=f"n{i}.data")
        for i, (got, want) in enumerate(zip(grads, program.grads)):
            assert_close(got, want, scale=grad_scale, what=f"n{i}.grad after backward()")
    except AssertionError as error:
        message = f"{error}\nin the graph\n{program.text()}"
    else:
        return
    raise AssertionError(message)  # outside the except: Hypothesis then shrinks one failure, not one per check


def methods_of(student, helper) -> list[str]:
    """The methods among ``METHODS`` that the student's ``Value`` has."""
    return helper("graph_runner.py").implemented(student("engine.py").Value(0.0), list(METHODS))


# ---------------------------------------------------------------------------------------------
# the tests


@pytest.mark.points(1)
@given(x=st.floats(-1e4, 1e4, allow_nan=False))
def test_a_new_value_holds_its_data_and_a_zero_grad(student, x):
    v = student("engine.py").Value(x)
    assert_close(v.data, x, what="Value(x).data")
    assert_close(v.grad, 0.0, atol=0.0, what="Value(x).grad before any backward()")


@st.composite
def one_operation(draw: st.DrawFn, op: str) -> Program:
    """``n2 = op(n0, n1 or a number, either side)``, and maybe ``n3 = n2 * c``: an upstream
    gradient ``c != 1``, so that the chain rule's "times out.grad" is checked too."""
    leaves = [draw(LEAF), draw(LEAF)]
    if op in ("/", "relu"):  # away from a zero divisor and from ReLU's kink
        leaves = [float(draw(NUMBER)), float(draw(NUMBER))]
    if op == "log":  # a positive argument, from small to large
        leaves[0] = draw(st.floats(0.1, 1e3))
    if op == "**" and draw(st.booleans()):
        leaves[0] = draw(st.floats(0.25, 10))  # a positive base, for fractional exponents too
    b_is_node = draw(st.booleans())
    b = draw(st.integers(0, 1)) if b_is_node else draw(NUMBER)  # n0 op n0 uses one node twice
    steps = [Step(op, 0, b, b_is_node, draw(st.booleans()), draw(st.sampled_from(EXPONENTS)))]
    if draw(st.booleans()):
        steps.append(Step("*", 2, draw(NUMBER)))
    program = make_program(leaves, steps)
    if program.steps[0].op != op:  # the domain guard replaced it: test the operation itself
        program = make_program([1.25, -0.75], [Step(op, 0, 1, True)])
    return program


OPERATIONS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "neg": "neg", "pow": "**",
              "relu": "relu", "tanh": "tanh", "exp": "exp", "log": "log", "sigmoid": "sigmoid"}


@pytest.mark.points(1)
@pytest.mark.parametrize("name", sorted(OPERATIONS))
@given(data=st.data())
def test_each_operation_gives_data_and_local_gradients(student, helper, name, data):
    """Values or numbers on either side (``n0 - n1``, ``n0 - 2``, ``2 - n0``, ``n0 - n0``)."""
    run(student, helper, data.draw(one_operation(OPERATIONS[name]), label="program"))


@pytest.mark.points(4)
@given(leaves=LEAVES, raw=RAW_STEPS)
def test_random_graphs_give_every_node_its_gradient(student, helper, leaves, raw):
    """Reused nodes, numbers on either side, every operation: all nodes' data and grads."""
    run(student, helper, make_program(leaves, raw, methods_of(student, helper)))


@pytest.mark.points(1)
@given(x=st.floats(0.25, 2), w=st.floats(-2, 2))
def test_a_node_reached_along_two_paths_gets_both_contributions(student, helper, x, w):
    """n2 = n0 * n1 feeds n3 = n2.tanh(), n4 = n2 * 3, n5 = n2 * n2 and n7 = n2 * n6 (n6 computed
    from n2): n2's grad is the sum of every path, and n2 passes it on exactly once."""
    steps = [Step("*", 0, 1, True), Step("tanh", 2), Step("*", 2, 3.0), Step("*", 2, 2, True),
             Step("*", 3, 4, True), Step("+", 6, 5, True), Step("*", 2, 7, True)]
    run(student, helper, make_program([x, w], steps, methods_of(student, helper)))


@pytest.mark.points(1)
@given(c=NUMBER)
def test_relu_at_zero_passes_any_subgradient(student, helper, c):
    """At exactly 0 the handout accepts any subgradient in [0, 1], times the upstream gradient ``c``."""
    data, grads = helper("graph_runner.py").run_program(
        student("engine.py").Value(0.0), [0.0], [("relu", 0, 1.0, False, False, 2), ("*", 1, c, False, False, 2)]
    )
    assert_close(data[1], 0.0, atol=0.0, what="Value(0.0).relu().data")
    assert_close(grads[0], c / 2, atol=abs(c) / 2, what=f"n0.grad for n2 = n0.relu() * {c} at n0 = 0 (anything from 0 to {c})")


DEPTH = 10_000


@pytest.mark.points(2)
def test_backward_works_on_a_10000_deep_graph(student, helper):
    """n1 = n0 + n0, n2 = n1 + n0, ...: 10,000 nodes deep, deeper than Python's recursion limit
    (1000), so a recursive topological sort fails here; the leaf n0 is reused at every level."""
    data, grad, leaf_grad = helper("graph_runner.py").sum_chain(student("engine.py").Value(0.75), DEPTH)
    assert_close(data, 0.75 * DEPTH, what="the last node's data (10,000 * 0.75)")
    assert_close(grad, 1.0, what="the grad of the node backward() was called on")
    assert_close(leaf_grad, float(DEPTH), what="the grad of n0, which each of the 10,000 levels uses")


@pytest.mark.points(1)
def test_engine_imports_no_autodiff_library(student):
    """Write the engine yourself: torch, jax, autograd and the like are not allowed."""
    engine = student("engine.py")
    engine.Value(2.0) * 3.0  # the points are for an engine of your own: it must exist first
    engine.assert_no_banned_imports()
