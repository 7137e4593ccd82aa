"""Planted submissions of a3_autodiff, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.

``BUGGY`` has one or more bugs in every part of the engine; ``CORRECT`` engines use another
topological sort, other stable formulas, operators built from other operators, numpy scalars.
"""

from __future__ import annotations


from tests.planted import Edit, Rewrite, Variant

A = "a3_autodiff"
F = "engine.py"

RECURSIVE_BACKWARD = '''
def backward(self):
    topo, visited = [], set()

    def build(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build(child)
            topo.append(node)

    build(self)
    self.grad = 1.0
    for node in reversed(topo):
        node._backward()
'''

PRE_ORDER_BACKWARD = '''
def backward(self):
    order, visited, stack = [], set(), [self]
    while stack:
        node = stack.pop()
        if node not in visited:
            visited.add(node)
            order.append(node)  # before the nodes it depends on, but not after all its users
            stack.extend(node._prev)
    self.grad = 1.0
    for node in order:
        node._backward()
'''

BUGGY = [
    Variant("recursive topological sort (RecursionError 10,000 deep)", (Rewrite(F, "Value.backward", RECURSIVE_BACKWARD),)),
    Variant("mul backward assigns instead of accumulating", (Edit(
        F,
        "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
    ),), mistake="mul backward assigns instead of accumulating"),
    Variant("add backward assigns instead of accumulating", (Edit(
        F,
        "self.grad += out.grad\n            other.grad += out.grad",
        "self.grad = out.grad\n            other.grad = out.grad",
    ),), mistake="add backward assigns instead of accumulating"),
    Variant("2 - v computes v - 2", (Edit(F, "return Value(other) - self", "return self - Value(other)"),), mistake="2 - v computed as v - 2"),
    Variant("3 / v computes v / 3", (Edit(F, "return Value(other) / self", "return self / Value(other)"),), mistake="3 / v computed as v / 3"),
    Variant("no __rmul__: 2 * v raises", (Edit(F, "    def __rmul__(self, other):", "    def _rmul(self, other):"),)),
    Variant("sub backward: + for the subtrahend", (Edit(F, "other.grad -= out.grad\n", "other.grad += out.grad\n"),), mistake="sub backward adds to the subtrahend"),
    Variant("div backward: -a / b instead of -a / b**2", (Edit(
        F, "other.grad -= out.grad * self.data / (other.data * other.data)", "other.grad -= out.grad * self.data / other.data"
    ),), mistake="div backward: -a / b instead of -a / b**2"),
    Variant("pow backward forgets out.grad", (Edit(
        F, "self.grad += k * self.data ** (k - 1) * out.grad", "self.grad += k * self.data ** (k - 1)"
    ),), mistake="pow backward without out.grad"),
    Variant("tanh derivative from the input", (Edit(F, "return self._unary(t, 1.0 - t * t, \"tanh\")", "return self._unary(t, 1.0 - self.data ** 2, \"tanh\")"),), mistake="tanh derivative from the input"),
    Variant("sigmoid derivative from the input", (Edit(F, "return self._unary(s, s * (1.0 - s), \"sigmoid\")", "return self._unary(s, self.data * (1.0 - self.data), \"sigmoid\")"),), mistake="sigmoid derivative from the input"),
    Variant("stable sigmoid without its negative branch", (Edit(
        F, "s = 1.0 / (1.0 + z) if self.data >= 0 else z / (1.0 + z)", "s = 1.0 / (1.0 + z)"
    ),), mistake="stable sigmoid without its negative branch"),
    Variant("relu mask from the output with >= (passes every gradient)", (Edit(
        F, "1.0 if self.data > 0 else 0.0", "1.0 if max(self.data, 0.0) >= 0 else 0.0"
    ),), mistake="ReLU passes every gradient"),
    Variant("exp derivative from the input", (Edit(F, "return self._unary(e, e, \"exp\")", "return self._unary(e, self.data, \"exp\")"),), mistake="exp derivative from the input"),
    Variant("log derivative 1 / log(a)", (Edit(F, "1.0 / self.data, \"log\"", "1.0 / math.log(self.data), \"log\""),)),
    Variant("backward does not seed self.grad = 1", (Edit(F, "        self.grad = 1.0\n        for node in reversed(topo):", "        for node in reversed(topo):"),), mistake="backward does not seed the output's gradient"),
    Variant("node expanded twice when pushed twice (double counting)", (Edit(F, "elif node not in visited:", "else:"),), mistake="a node expanded each time it is reached"),
    Variant("nodes marked visited by their value", (
        Edit(F, "            elif node not in visited:\n                visited.add(node)", "            elif node.data not in visited:\n                visited.add(node.data)"),
        Edit(F, "for child in node._prev if child not in visited)", "for child in node._prev if child.data not in visited)"),
    )),  # no diagnosis: on the failing program "sigmoid derivative from the input" matches too, and matches that disagree say nothing
    Variant("topological order from a pre-order DFS", (Rewrite(F, "Value.backward", PRE_ORDER_BACKWARD),), mistake="topological order from a pre-order traversal"),
    Variant("a new Value starts with grad 1.0", (Edit(F, "self.grad = 0.0\n        self._backward", "self.grad = 1.0\n        self._backward"),), mistake="a new Value starts with grad 1"),
]

KAHN_BACKWARD = '''
def backward(self):
    """Kahn's algorithm: a node runs its _backward once every node using it has run."""
    users, nodes, stack = {}, [self], [self]
    seen = {id(self)}
    while stack:
        node = stack.pop()
        for child in node._prev:
            users[id(child)] = users.get(id(child), 0) + 1  # once per use, x * x counts twice
            if id(child) not in seen:
                seen.add(id(child))
                nodes.append(child)
                stack.append(child)
    for node in nodes:
        node.grad = 0.0
    self.grad = 1.0
    ready = [self]
    while ready:
        node = ready.pop()
        node._backward()
        for child in node._prev:
            users[id(child)] -= 1
            if users[id(child)] == 0:
                ready.append(child)
'''

ITERATOR_DFS_BACKWARD = '''
def backward(self):
    """Post-order DFS with a stack of child iterators; the graph is fresh, so no zeroing."""
    topo, visited = [], {id(self)}
    stack = [(self, iter(self._prev))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if id(child) not in visited:
                visited.add(id(child))
                stack.append((child, iter(child._prev)))
                break
        else:
            stack.pop()
            topo.append(node)
    self.grad = 1.0
    for node in reversed(topo):
        node._backward()
'''

TANH_FROM_EXP = '''
def tanh(self):
    e = math.exp(-2.0 * abs(self.data))  # never overflows
    t = math.copysign((1.0 - e) / (1.0 + e), self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1.0 - out.data ** 2) * out.grad
    out._backward = _backward
    return out
'''

SIGMOID_FROM_TANH = '''
def sigmoid(self):
    s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += out.data * (1.0 - out.data) * out.grad
    out._backward = _backward
    return out
'''

EXP_FROM_OUTPUT = '''
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad
    out._backward = _backward
    return out
'''

CORRECT = [
    Variant("Kahn's algorithm", (Rewrite(F, "Value.backward", KAHN_BACKWARD),)),
    Variant("iterator DFS, relu mask x >= 0, stable tanh from exp, sigmoid from tanh", (
        Rewrite(F, "Value.backward", ITERATOR_DFS_BACKWARD),
        Edit(F, "1.0 if self.data > 0 else 0.0", "1.0 if self.data >= 0 else 0.0"),
        Rewrite(F, "Value.tanh", TANH_FROM_EXP),
        Rewrite(F, "Value.sigmoid", SIGMOID_FROM_TANH),
        Rewrite(F, "Value.exp", EXP_FROM_OUTPUT),
    )),
    Variant("operators from other operators (a - b = a + -b, a / b = a * b**-1)", (
        Rewrite(F, "Value.__sub__", "def __sub__(self, other):\n    return self + (-other)\n"),
        Rewrite(F, "Value.__truediv__", "def __truediv__(self, other):\n    return self * other ** -1\n"),
        Rewrite(F, "Value.__neg__", "def __neg__(self):\n    return self * -1\n"),
        Rewrite(F, "Value.__radd__", "def __radd__(self, other):\n    return self + other\n"),
        Rewrite(F, "Value.__rmul__", "def __rmul__(self, other):\n    return self * other\n"),
        Rewrite(F, "Value.__rsub__", "def __rsub__(self, other):\n    return (-self) + other\n"),
        Rewrite(F, "Value.__rtruediv__", "def __rtruediv__(self, other):\n    return self ** -1 * other\n"),
    )),
    Variant("numpy float64 scalars for data and the unary functions", (
        Edit(F, "import math\n", "import math\n\nimport numpy as np\n"),
        Edit(F, "self.data = float(data)", "self.data = np.float64(data)"),
        Edit(F, "t = math.tanh(self.data)", "t = np.tanh(self.data)"),
        Edit(F, "e = math.exp(self.data)", "e = np.exp(self.data)"),
        Edit(F, "return self._unary(math.log(self.data),", "return self._unary(np.log(self.data),"),
    )),
]

MINIMAL_ENGINE = '''
class Value:
    """A minimal engine as students find it published: ints where numbers are whole, no tanh,
    exp, log or sigmoid, and a recursive topological sort."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = Value(self.data ** other, (self,), f"**{other}")

        def _backward():
            self.grad += (other * self.data ** (other - 1)) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"
'''

# A minimal engine as published (neither correct nor a single bug), and what it may lose:: the tests of the four methods it lacks, and the deep graph
MINIMAL_ENGINE_LOSES = {
    *(f"test_each_operation_gives_data_and_local_gradients[{m}]" for m in ("exp", "log", "sigmoid", "tanh")),
    *(f"test_methods_match_the_reference_across_their_range[{m}]" for m in ("exp", "log", "sigmoid", "tanh")),
    "test_backward_works_on_a_10000_deep_graph",
}
