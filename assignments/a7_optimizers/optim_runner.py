"""Course helper for the a7_optimizers tests: it steps YOUR optimizer where your code runs.

Not part of your assignment: do not edit it (grading uses the course's copy). The tests build
your optimizer over parameter arrays they share with your code, then send it here with those
arrays and the gradients of each step; ``run_steps`` calls ``step`` once per step and sends back
a copy of the parameters after each one, so a whole run costs one call instead of two per step.
Only what ``step`` does to the arrays themselves (in place) shows in the copies.
"""


def run_steps(optimizer, params, grads):
    """``optimizer.step(gs)`` for each list ``gs`` in ``grads``; the parameters after each step."""
    trajectory = []
    for step_grads in grads:
        optimizer.step([g.copy() for g in step_grads])  # copies: a step that modifies them must not change the test's data
        trajectory.append([p.copy() for p in params])
    return trajectory
