"""A scalar reverse-mode automatic differentiation engine, in the style of micrograd.

Every operation makes a new Value that remembers its inputs (``_prev``) and a function
(``_backward``) that adds its share of the gradient to them, using the chain rule:
``input.grad += out.grad * d(out)/d(input)``. ``backward()`` visits the graph in reverse
topological order, so each node's gradient is complete before it is passed on.
"""

import math


class Value:
    """A float ``data`` and ``grad``, the derivative of the last backward() output by it."""

    def __init__(self, data, _prev=(), _op=""):
        """A node holding ``data`` (a float) and ``grad`` (0.0 until backward() sets it); ``_prev``
        are the Values it was computed from and ``_op`` names the operation (for printing)."""
        raise NotImplementedError("Implement Value.__init__: see the assignment's README.md")

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # --- binary operators: each forward beside its backward --------------------------------

    def __add__(self, other):
        """a + b; da = db = 1."""
        raise NotImplementedError("Implement Value.__add__: see the assignment's README.md")

    def __sub__(self, other):
        """a - b; da = 1, db = -1."""
        raise NotImplementedError("Implement Value.__sub__: see the assignment's README.md")

    def __mul__(self, other):
        """a * b; da = b, db = a."""
        raise NotImplementedError("Implement Value.__mul__: see the assignment's README.md")

    def __truediv__(self, other):
        """a / b; da = 1 / b, db = -a / b**2."""
        raise NotImplementedError("Implement Value.__truediv__: see the assignment's README.md")

    def __pow__(self, k):
        """a ** k for a Python int or float k; da = k * a ** (k - 1)."""
        raise NotImplementedError("Implement Value.__pow__: see the assignment's README.md")

    # A number on the left: 2 + v, 2 - v, 2 * v, 2 / v.
    def __radd__(self, other):
        """other + a, for a number on the left."""
        raise NotImplementedError("Implement Value.__radd__: see the assignment's README.md")

    def __rsub__(self, other):
        """other - a, for a number on the left: note the order."""
        raise NotImplementedError("Implement Value.__rsub__: see the assignment's README.md")

    def __rmul__(self, other):
        """other * a, for a number on the left."""
        raise NotImplementedError("Implement Value.__rmul__: see the assignment's README.md")

    def __rtruediv__(self, other):
        """other / a, for a number on the left: note the order."""
        raise NotImplementedError("Implement Value.__rtruediv__: see the assignment's README.md")

    def __neg__(self):
        """-a; da = -1."""
        raise NotImplementedError("Implement Value.__neg__: see the assignment's README.md")

    # --- unary functions ----------------------------------------------------------------------

    def _unary(self, data, local_grad, op):
        """A Value of ``data`` whose derivative with respect to self is ``local_grad``."""
        raise NotImplementedError("Implement Value._unary: see the assignment's README.md")

    def relu(self):
        """max(a, 0); da = 1 if a > 0 else 0 (0 at a == 0, as PyTorch)."""
        raise NotImplementedError("Implement Value.relu: see the assignment's README.md")

    def tanh(self):
        """tanh(a); da = 1 - tanh(a)**2."""
        raise NotImplementedError("Implement Value.tanh: see the assignment's README.md")

    def exp(self):
        """e**a; da = e**a."""
        raise NotImplementedError("Implement Value.exp: see the assignment's README.md")

    def log(self):
        """ln(a) for a > 0; da = 1 / a."""
        raise NotImplementedError("Implement Value.log: see the assignment's README.md")

    def sigmoid(self):
        """1 / (1 + e**-a), stable (exp only of -|a|); da = s * (1 - s)."""
        raise NotImplementedError("Implement Value.sigmoid: see the assignment's README.md")

    # --- reverse mode -------------------------------------------------------------------------

    def backward(self):
        """Set every node's .grad to d(self)/d(node), for all nodes self depends on.

        The topological order is built with an explicit stack (no recursion), so graphs
        of any depth work; a node reached along several paths sums their contributions.
        """
        raise NotImplementedError("Implement Value.backward: see the assignment's README.md")
