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
        ### BEGIN SOLUTION
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = _prev
        self._op = _op
        ### END SOLUTION

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # --- binary operators: each forward beside its backward --------------------------------

    def __add__(self, other):
        """a + b; da = db = 1."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __sub__(self, other):
        """a - b; da = 1, db = -1."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __mul__(self, other):
        """a * b; da = b, db = a."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __truediv__(self, other):
        """a / b; da = 1 / b, db = -a / b**2."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / (other.data * other.data)
        out._backward = _backward
        return out
        ### END SOLUTION

    def __pow__(self, k):
        """a ** k for a Python int or float k; da = k * a ** (k - 1)."""
        ### BEGIN SOLUTION
        if not isinstance(k, (int, float)):
            return NotImplemented
        out = Value(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    # A number on the left: 2 + v, 2 - v, 2 * v, 2 / v.
    def __radd__(self, other):
        """other + a, for a number on the left."""
        ### BEGIN SOLUTION
        return Value(other) + self
        ### END SOLUTION

    def __rsub__(self, other):
        """other - a, for a number on the left: note the order."""
        ### BEGIN SOLUTION
        return Value(other) - self
        ### END SOLUTION

    def __rmul__(self, other):
        """other * a, for a number on the left."""
        ### BEGIN SOLUTION
        return Value(other) * self
        ### END SOLUTION

    def __rtruediv__(self, other):
        """other / a, for a number on the left: note the order."""
        ### BEGIN SOLUTION
        return Value(other) / self
        ### END SOLUTION

    def __neg__(self):
        """-a; da = -1."""
        ### BEGIN SOLUTION
        return self * -1.0
        ### END SOLUTION

    # --- unary functions ----------------------------------------------------------------------

    def _unary(self, data, local_grad, op):
        """A Value of ``data`` whose derivative with respect to self is ``local_grad``."""
        ### BEGIN SOLUTION
        out = Value(data, (self,), op)

        def _backward():
            self.grad += local_grad * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def relu(self):
        """max(a, 0); da = 1 if a > 0 else 0 (0 at a == 0, as PyTorch)."""
        ### BEGIN SOLUTION
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0, "relu")
        ### END SOLUTION

    def tanh(self):
        """tanh(a); da = 1 - tanh(a)**2."""
        ### BEGIN SOLUTION
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")
        ### END SOLUTION

    def exp(self):
        """e**a; da = e**a."""
        ### BEGIN SOLUTION
        e = math.exp(self.data)
        return self._unary(e, e, "exp")
        ### END SOLUTION

    def log(self):
        """ln(a) for a > 0; da = 1 / a."""
        ### BEGIN SOLUTION
        return self._unary(math.log(self.data), 1.0 / self.data, "log")
        ### END SOLUTION

    def sigmoid(self):
        """1 / (1 + e**-a), stable (exp only of -|a|); da = s * (1 - s)."""
        ### BEGIN SOLUTION
        z = math.exp(-abs(self.data))
        s = 1.0 / (1.0 + z) if self.data >= 0 else z / (1.0 + z)
        return self._unary(s, s * (1.0 - s), "sigmoid")
        ### END SOLUTION

    # --- reverse mode -------------------------------------------------------------------------

    def backward(self):
        """Set every node's .grad to d(self)/d(node), for all nodes self depends on.

        The topological order is built with an explicit stack (no recursion), so graphs
        of any depth work; a node reached along several paths sums their contributions.
        """
        ### BEGIN SOLUTION
        topo, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)  # after everything it depends on
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev if child not in visited)
        for node in topo:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
        ### END SOLUTION
