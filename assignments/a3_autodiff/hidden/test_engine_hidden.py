"""Hidden tests for a3_autodiff: the student's ``Value`` against the reference engine.

Every graph is built twice from one program, once with the reference's ``Value`` (in this
process) and once with the student's, and every node's ``.data`` and ``.grad`` is compared after
``backward()`` on the last node, intermediate nodes included. The program is decided on the
reference's values (so the student's code never steers the test): operations that would leave the
domain the handout promises are replaced, exactly as in the public tests (``|value| <= 1e4``,
``log`` of numbers >= 0.1, divisors and pow bases at least 0.25 in size, fractional powers of
positive bases, ``tanh``/``sigmoid`` of ``|x| <= 30``, nothing within 1e-3 of ReLU's kink).

Compared with the public tests: more leaves, longer programs, larger leaves and numbers (both
signs, ints and floats), every exponent, and each method across its whole tested range.
Tolerance: six significant digits of the largest magnitude in the graph (``grader.assert_close``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import assert_close

BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
METHODS = ("relu", "tanh", "exp", "log", "sigmoid")
INT_EXPONENTS = (-3, -2, -1, 0, 1, 2, 3, 4)
BOUND = 1e4


@dataclass(frozen=True)
class Op:
    """``op`` applied to node ``a`` and ``b`` (a node index when ``b_is_node``, else a number)."""

    op: str
    a: int
    b: float = 1.0
    b_is_node: bool = False
    swap: bool = False
    k: float = 2

    def text(self) -> str:
        a, b = f"n{self.a}", (f"n{int(self.b)}" if self.b_is_node else repr(self.b))
        if self.op in BINARY:
            return f"{b} {self.op} {a}" if self.swap else f"{a} {self.op} {b}"
        if self.op == "neg":
            return f"-{a}"
        if self.op == "**":
            return f"{a} ** {self.k!r}"
        return f"{a}.{self.op}()"


def apply(op: Op, nodes: list) -> object:
    a = nodes[op.a]
    b = nodes[int(op.b)] if op.b_is_node else op.b
    if op.op in BINARY:
        return BINARY[op.op](b, a) if op.swap else BINARY[op.op](a, b)
    if op.op == "neg":
        return -a
    if op.op == "**":
        return a**op.k
    return getattr(a, op.op)()


def in_domain(op: Op, nodes: list) -> Op:
    """``op``, replaced where it would leave the tested domain (decided on reference data)."""
    a = nodes[op.a].data
    b = nodes[int(op.b)].data if op.b_is_node else op.b
    name, k = op.op, op.k
    if name == "/" and abs(a if op.swap else b) < 0.25:
        name = "*"
    elif name == "log" and a < 0.1:
        name = "sigmoid"
    elif name == "exp" and a > 9:
        name = "tanh"
    elif name == "relu" and abs(a) < 1e-3:
        name = "tanh"
    elif name == "**" and (abs(a) < 0.25 or (k != int(k) and a < 0.25)):
        k = 2
    if name in ("tanh", "sigmoid") and abs(a) > 30:
        name = "neg"
    op = Op(name, op.a, op.b, op.b_is_node, op.swap and name in BINARY, k)
    if not abs(apply(op, nodes).data) <= BOUND:
        op = Op("neg", op.a)
    return op


@dataclass(frozen=True)
class Graph:
    leaves: tuple[float, ...]
    ops: tuple[Op, ...]

    def text(self) -> str:
        lines = [f"n{i} = Value({x!r})" for i, x in enumerate(self.leaves)]
        lines += [f"n{len(self.leaves) + i} = {op.text()}" for i, op in enumerate(self.ops)]
        lines.append(f"n{len(self.leaves) + len(self.ops) - 1}.backward()")
        return "\n".join("    " + line for line in lines)


def resolve(Value: type, leaves: list[float], raw: list[Op], guard: bool, methods: tuple[str, ...] = METHODS) -> tuple[Graph, list]:
    """The program with node indices taken modulo the nodes so far (-1: the last node) and, with
    ``guard``, kept in the domain, a method not among ``methods`` (the student's) replaced by
    ``neg``; and its nodes built with ``Value`` (the reference's)."""
    nodes = [Value(x) for x in leaves]
    ops = []
    for r in raw:
        n = len(nodes)
        op = Op(r.op, r.a % n, float(int(r.b) % n) if r.b_is_node else r.b, r.b_is_node, r.swap and r.op in BINARY, r.k)
        if guard:
            op = in_domain(op, nodes)
        if op.op in METHODS and op.op not in methods:
            op = Op("neg", op.a)
        ops.append(op)
        nodes.append(apply(op, nodes))
    return Graph(tuple(leaves), tuple(ops)), nodes


def compare(student, helper, reference, leaves: list[float], raw: list[Op], *, guard: bool = True) -> None:
    """Build the graph with both engines (the student's in ``graph_runner.py``, where their code
    runs), call backward() on the last node, compare every node's data and grad. Without
    ``guard`` the caller has chosen inputs inside the domain itself. With ``guard``, a method the
    student's ``Value`` lacks becomes ``neg``: it costs its own tests, not every graph's."""
    __tracebackhide__ = True
    methods = tuple(helper("graph_runner.py").implemented(student("engine.py").Value(0.0), list(METHODS))) if guard else METHODS
    graph, want = resolve(reference("engine.py").Value, leaves, raw, guard, methods)
    want[-1].backward()
    steps = [(op.op, op.a, op.b, op.b_is_node, op.swap, op.k) for op in graph.ops]
    got_data, got_grads = helper("graph_runner.py").run_program(student("engine.py").Value(0.0), list(leaves), steps)
    data = [w.data for w in want]
    grads = [w.grad for w in want]
    data_scale = max(1.0, max(abs(x) for x in data))
    grad_scale = data_scale * max(1.0, max(abs(g) for g in grads))
    try:
        for i, (got, d) in enumerate(zip(got_data, data)):
            assert_close(got, d, scale=data_scale, what=f"n{i}.data")
        for i, (got, g) in enumerate(zip(got_grads, grads)):
            assert_close(got, g, scale=grad_scale, what=f"n{i}.grad after backward()")
    except AssertionError as error:
        message = f"{error}\nin the graph\n{graph.text()}"
    else:
        return
    raise AssertionError(message)  # outside the except: one origin for Hypothesis to shrink


def nonzero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """A number with ``lo <= |x| <= hi``, either sign."""
    return st.one_of(st.floats(lo, hi), st.floats(-hi, -lo))


NUMBERS = st.one_of(st.integers(-10, 10).filter(bool).map(int), nonzero(0.25, 10))
LEAVES = st.one_of(st.floats(-10, 10, allow_nan=False), st.integers(-5, 5).map(float))
ALL = [*BINARY, "neg", "**", *METHODS]
NODE_INDEX = st.one_of(st.integers(-3, -1), st.integers(0, 1000))  # recent nodes often (modulo the count)


@st.composite
def ops(draw: st.DrawFn) -> Op:
    b_is_node = draw(st.booleans())
    return Op(
        op=draw(st.sampled_from(ALL)),
        a=draw(NODE_INDEX),
        b=float(draw(NODE_INDEX) if b_is_node else draw(NUMBERS)),
        b_is_node=b_is_node,
        swap=draw(st.booleans()),
        k=draw(st.one_of(st.sampled_from(INT_EXPONENTS), st.floats(-3, 3).map(lambda v: round(v, 3)))),
    )


OPS = ops()


def upstream(c: float | None) -> list[Op]:
    """Scale the output by an upstream gradient ``c`` (n_last * c), or nothing."""
    return [] if c is None else [Op("*", -1, c)]


@pytest.mark.points(3)
@given(leaves=st.lists(LEAVES, min_size=1, max_size=6), raw=st.lists(OPS, min_size=1, max_size=20))
def test_random_graphs_match_the_reference(student, helper, reference, leaves, raw):
    compare(student, helper, reference, leaves, raw)


@pytest.mark.points(2)
@given(
    x=nonzero(0.25, 100),
    number=st.one_of(st.integers(-10, 10).map(int), nonzero(0.25, 100)),
    op=st.sampled_from(sorted(BINARY)),
    swap=st.booleans(),
    c=st.none() | nonzero(0.25, 5),
)
def test_numbers_on_either_side_match_the_reference(student, helper, reference, x, number, op, swap, c):
    """``v op c`` and ``c op v`` with ints (0 included) and floats of both signs."""
    if op == "/" and not swap and number == 0:
        number = 3
    compare(student, helper, reference, [x], [Op(op, 0, number, False, swap), *upstream(c)], guard=False)


@pytest.mark.points(2)
@given(
    base=st.one_of(nonzero(0.25, 20), st.floats(0.01, 100)),
    k=st.one_of(st.sampled_from(INT_EXPONENTS), st.floats(-3, 3)),
    c=st.none() | nonzero(0.25, 5),
)
def test_powers_match_the_reference(student, helper, reference, base, k, c):
    """Integer exponents of either sign for any base; float exponents of positive bases."""
    if k != int(k) and base < 0:
        base = -base
    compare(student, helper, reference, [base], [Op("**", 0, k=k), *upstream(c)], guard=False)


RANGES = {
    "relu": nonzero(1e-3, 1e4),
    "tanh": st.floats(-30, 30),
    "sigmoid": st.floats(-30, 30),
    "exp": st.floats(-50, 9),
    "log": st.floats(1e-3, 1e4),
}


@pytest.mark.points(2 / len(METHODS))
@pytest.mark.parametrize("method", METHODS)
@given(data=st.data(), c=st.none() | nonzero(0.25, 5))
def test_methods_match_the_reference_across_their_range(student, helper, reference, data, method, c):
    """relu on either side of the kink, tanh and sigmoid into saturation, exp and log far out."""
    x = data.draw(RANGES[method], label="x")
    compare(student, helper, reference, [x], [Op(method, 0), *upstream(c)], guard=False)


@pytest.mark.points(1)
@given(x=nonzero(0.25, 3), y=nonzero(0.25, 3))
def test_every_node_used_twice_by_one_operation(student, helper, reference, x, y):
    """n op n for every binary operation, on leaves and on an inner node (n2 = n0 * n1), then
    combined with n2 again: each grad sums both operand slots, and n2 passes its grad on once."""
    raw = [Op("*", 0, 1, True), Op("+", 2, 2, True), Op("-", 2, 2, True), Op("*", 2, 2, True), Op("/", 2, 2, True),
           Op("+", 0, 0, True), Op("/", 1, 1, True), Op("*", 3, 5, True), Op("+", 9, 6, True), Op("*", 10, 4, True),
           Op("+", 11, 7, True), Op("*", 12, 8, True), Op("*", 2, 13, True)]
    compare(student, helper, reference, [x, y], raw, guard=False)
