"""Known mistakes of a3_autodiff (``grader.diagnosis``): judge-only, never released.

The tests run a *program* (leaves and steps of plain numbers and strings) on the student's
``Value`` through the course helper ``graph_runner.run_program(Value(0.0), leaves, steps)``, and
get back every node's ``data`` and ``grad``. That call is what is judged: the right answer is the
same program on the oracle's ``Value``; a mistake's answer is the same program on ``_engine``, a
copy of the oracle's engine with one line written the way the mistake writes it.
"""

import math
from pathlib import Path

from grader.calls import is_plain
from grader.diagnosis import Function, Mistake, Problem
from grader.loader import load_module_from_path

HERE = Path(__file__).resolve().parent
graph_runner = load_module_from_path(HERE.parent.parent / "assignments" / HERE.name / "graph_runner.py")

SPEC = "What to implement (the spec)"  # the handout's sections
IDEA = "The idea"


def _engine(mistake=""):
    """The oracle's ``Value``, with ``mistake`` (one of the names in ``MISTAKES`` below) made."""

    class Value:
        def __init__(self, data, _prev=(), _op=""):
            self.data = float(data)
            self.grad = 1.0 if mistake == "grad starts at 1" else 0.0
            self._backward = lambda: None
            self._prev = _prev

        @staticmethod
        def _of(other):
            return other if isinstance(other, Value) else Value(other)

        def __add__(self, other):
            other = Value._of(other)
            out = Value(self.data + other.data, (self, other))

            def _backward():
                if mistake == "add":
                    self.grad = out.grad
                    other.grad = out.grad
                else:
                    self.grad += out.grad
                    other.grad += out.grad
            out._backward = _backward
            return out

        def __sub__(self, other):
            other = Value._of(other)
            out = Value(self.data - other.data, (self, other))

            def _backward():
                self.grad += out.grad
                other.grad += out.grad if mistake == "sub" else -out.grad
            out._backward = _backward
            return out

        def __mul__(self, other):
            other = Value._of(other)
            out = Value(self.data * other.data, (self, other))

            def _backward():
                if mistake == "mul":
                    self.grad = other.data * out.grad
                    other.grad = self.data * out.grad
                else:
                    self.grad += other.data * out.grad
                    other.grad += self.data * out.grad
            out._backward = _backward
            return out

        def __truediv__(self, other):
            other = Value._of(other)
            out = Value(self.data / other.data, (self, other))

            def _backward():
                self.grad += out.grad / other.data
                if mistake == "div":
                    other.grad -= out.grad * self.data / other.data
                else:
                    other.grad -= out.grad * self.data / (other.data * other.data)
            out._backward = _backward
            return out

        def __pow__(self, k):
            out = Value(self.data**k, (self,))

            def _backward():
                self.grad += k * self.data ** (k - 1) * (1.0 if mistake == "pow" else out.grad)
            out._backward = _backward
            return out

        def __radd__(self, other):
            return Value(other) + self

        def __rsub__(self, other):
            return self - Value(other) if mistake == "rsub" else Value(other) - self

        def __rmul__(self, other):
            return Value(other) * self

        def __rtruediv__(self, other):
            return self / Value(other) if mistake == "rtruediv" else Value(other) / self

        def __neg__(self):
            return self * -1.0

        def _unary(self, data, local_grad):
            out = Value(data, (self,))

            def _backward():
                self.grad += local_grad * out.grad
            out._backward = _backward
            return out

        def relu(self):
            passes = self.data > 0 if mistake != "relu" else max(self.data, 0.0) >= 0
            return self._unary(max(self.data, 0.0), 1.0 if passes else 0.0)

        def tanh(self):
            t = math.tanh(self.data)
            return self._unary(t, 1.0 - (self.data**2 if mistake == "tanh" else t * t))

        def exp(self):
            e = math.exp(self.data)
            return self._unary(e, self.data if mistake == "exp" else e)

        def log(self):
            return self._unary(math.log(self.data), 1.0 / (math.log(self.data) if mistake == "log" else self.data))

        def sigmoid(self):
            z = math.exp(-abs(self.data))
            s = 1.0 / (1.0 + z) if self.data >= 0 or mistake == "sigmoid branch" else z / (1.0 + z)
            x = self.data if mistake == "sigmoid" else s
            return self._unary(s, x * (1.0 - x))

        def backward(self):
            if mistake == "pre-order":
                topo, visited, stack = [], set(), [self]
                while stack:
                    node = stack.pop()
                    if node not in visited:
                        visited.add(node)
                        topo.append(node)
                        stack.extend(node._prev)
                topo.reverse()  # visited below from the last, as the reverse of a post-order
            else:
                key = (lambda node: node.data) if mistake == "visited by value" else (lambda node: node)
                topo, visited = [], set()
                stack = [(self, False)]
                while stack:
                    node, children_done = stack.pop()
                    if children_done:
                        topo.append(node)
                    elif key(node) not in visited or mistake == "expanded twice":
                        visited.add(key(node))
                        stack.append((node, True))
                        stack.extend((child, False) for child in node._prev if key(child) not in visited)
            for node in topo:
                node.grad = 0.0
            if mistake != "no seed":
                self.grad = 1.0
            for node in reversed(topo):
                node._backward()

    return Value


def _program_on(mistake):
    """The program run on the engine with ``mistake``: what ``run_program`` returns."""
    return lambda leaves, steps: graph_runner.run_program(_engine(mistake)(0.0), leaves, steps)


def program(calls, position):
    """The problem a ``run_program(Value(0.0), leaves, steps)`` call solved: the program (the
    student's ``Value`` only names its class) and what the call returned."""
    call = calls[position]
    leaves_and_steps = call.args[1:]
    if not is_plain(leaves_and_steps) or not is_plain(call.kwargs):
        return None
    return Problem(leaves_and_steps, call.kwargs, call.result)


run_program = Function(
    "graph_runner.py", "run_program",
    view=program,
    oracle=lambda engine, leaves, steps: graph_runner.run_program(engine.Value(0.0), leaves, steps),
    oracle_file="engine.py",
    shown="Value",
)

MISTAKES = [
    Mistake(
        run_program, "a new Value starts with grad 1",
        "A Value's grad is 0.0 until a backward() it takes part in sets it: a node the output does not depend on keeps grad 0.",
        SPEC, _program_on("grad starts at 1"),
    ),
    Mistake(
        run_program, "add backward assigns instead of accumulating",
        "A node used twice (a + a, or in two operations) gets a gradient from each use: self.grad += out.grad, never =.",
        SPEC, _program_on("add"),
    ),
    Mistake(
        run_program, "mul backward assigns instead of accumulating",
        "A node used twice (a * a, or in two operations) gets a gradient from each use: self.grad += other.data * out.grad, never =.",
        SPEC, _program_on("mul"),
    ),
    Mistake(
        run_program, "sub backward adds to the subtrahend",
        "d(a - b)/db = -1: other.grad -= out.grad.",
        SPEC, _program_on("sub"),
    ),
    Mistake(
        run_program, "div backward: -a / b instead of -a / b**2",
        "d(a / b)/db = -a / b**2: other.grad -= out.grad * a / (b * b).",
        SPEC, _program_on("div"),
    ),
    Mistake(
        run_program, "pow backward without out.grad",
        "The chain rule multiplies the local derivative by the upstream gradient: self.grad += k * a**(k - 1) * out.grad.",
        SPEC, _program_on("pow"),
    ),
    Mistake(
        run_program, "2 - v computed as v - 2",
        "__rsub__(self, other) is other - self (a number on the left): return Value(other) - self.",
        SPEC, _program_on("rsub"),
    ),
    Mistake(
        run_program, "3 / v computed as v / 3",
        "__rtruediv__(self, other) is other / self (a number on the left): return Value(other) / self.",
        SPEC, _program_on("rtruediv"),
    ),
    Mistake(
        run_program, "ReLU passes every gradient",
        "ReLU's derivative is 1 where the INPUT is positive and 0 elsewhere; max(a, 0) >= 0 holds everywhere.",
        SPEC, _program_on("relu"),
    ),
    Mistake(
        run_program, "tanh derivative from the input",
        "d tanh(a)/da = 1 - t**2 with t = tanh(a), the OUTPUT, not 1 - a**2.",
        SPEC, _program_on("tanh"),
    ),
    Mistake(
        run_program, "exp derivative from the input",
        "d e**a/da = e**a, the OUTPUT, not a.",
        SPEC, _program_on("exp"),
    ),
    Mistake(
        run_program, "log derivative 1 / log(a)",
        "d ln(a)/da = 1 / a.",
        SPEC, _program_on("log"),
    ),
    Mistake(
        run_program, "sigmoid derivative from the input",
        "d sigmoid(a)/da = s * (1 - s) with s = sigmoid(a), the OUTPUT, not a * (1 - a).",
        SPEC, _program_on("sigmoid"),
    ),
    Mistake(
        run_program, "stable sigmoid without its negative branch",
        "With z = exp(-|a|), sigmoid(a) is 1 / (1 + z) for a >= 0 but z / (1 + z) for a < 0.",
        SPEC, _program_on("sigmoid branch"),
    ),
    Mistake(
        run_program, "backward does not seed the output's gradient",
        "backward() starts from d(self)/d(self) = 1: set self.grad = 1.0 (after zeroing the graph) before calling the _backward functions.",
        IDEA, _program_on("no seed"),
    ),
    Mistake(
        run_program, "a node expanded each time it is reached",
        "A node reached along several paths must appear ONCE in the topological order, or its _backward runs (and adds its gradient) once per path: skip nodes already visited.",
        IDEA, _program_on("expanded twice"),
    ),
    Mistake(
        run_program, "nodes told apart by their value",
        "Two different nodes may hold the same value (two leaves of 2.0, x * 1 and x): mark a node visited by identity (the node itself, or id(node)), never by its .data.",
        IDEA, _program_on("visited by value"),
    ),
    Mistake(
        run_program, "topological order from a pre-order traversal",
        "A node's _backward may run only after every node that uses it has run its own: order the nodes by a post-order DFS (a node after all it depends on) and walk that order in reverse.",
        IDEA, _program_on("pre-order"),
    ),
]
