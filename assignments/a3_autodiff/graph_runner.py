"""Course helper for the a3_autodiff tests: it runs a test's graph on YOUR ``Value``.

Not part of your assignment: do not edit it (grading uses the course's copy). The tests send it a
*program* of plain numbers and strings; it builds the graph with your ``Value``, calls
``backward()`` on the last node and sends back every node's ``.data`` and ``.grad``. When grading,
this runs in the same process as your code, so a whole graph costs one call instead of one per
operation; the comparison itself always happens in the tests.

A step is ``(op, a, b, b_is_node, swap, k)``: ``op`` is ``"+"``, ``"-"``, ``"*"``, ``"/"``,
``"neg"``, ``"**"`` (exponent ``k``) or a method name (``"relu"``, ``"tanh"``, ``"exp"``,
``"log"``, ``"sigmoid"``); ``a`` is the index of an earlier node; ``b`` is the other operand of a
binary operation, an earlier node's index when ``b_is_node`` else a Python number; ``swap`` puts
``b`` on the left (``2 - n0`` rather than ``n0 - 2``).
"""

import operator

BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def apply(step, nodes):
    """One step on earlier ``nodes``: the new node."""
    op, a, b, b_is_node, swap, k = step
    left = nodes[a]
    if op in BINARY:
        right = nodes[int(b)] if b_is_node else b
        return BINARY[op](right, left) if swap else BINARY[op](left, right)
    if op == "neg":
        return -left
    if op == "**":
        return left**k
    return getattr(left, op)()


def implemented(value, names):
    """The method names among ``names`` that ``value`` (your ``Value``) has: the random graphs
    use only these, so a method you have not written costs its own tests, not every graph's."""
    return [name for name in names if callable(getattr(value, name, None))]


def run_program(value, leaves, steps):
    """Build ``Value(x)`` for each leaf (``Value = type(value)``), then each step; call
    ``backward()`` on the last node; return ``(data, grads)``, one entry per node, leaves first."""
    Value = type(value)
    nodes = [Value(x) for x in leaves]
    for step in steps:
        nodes.append(apply(step, nodes))
    nodes[-1].backward()
    return [node.data for node in nodes], [node.grad for node in nodes]


def sum_chain(value, depth):
    """``n1 = n0 + n0``, ``n2 = n1 + n0``, ...: ``depth`` nodes in a chain, the leaf ``value``
    reused at every level; ``backward()`` on the last. Returns (last data, last grad, leaf grad)."""
    node = value
    for _ in range(depth - 1):
        node = node + value
    node.backward()
    return node.data, node.grad, value.grad
