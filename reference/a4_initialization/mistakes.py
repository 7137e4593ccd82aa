"""Known mistakes of a4_initialization (``grader.diagnosis``): judge-only, never released.

The initializers draw from the ``rng`` they are given, so a mistake is replayed with the same
draws as the reference makes (one ``rng.normal`` or ``rng.uniform`` call of the weight's shape):
a student who made it gets exactly this answer. ``activation_stds`` gets an initializer that the
course's helper made where the student's code runs (``course_rng.normal_initializer(std)`` or
``zeros_initializer()``): its call is recorded, and the same initializer is rebuilt here.
"""

import math

import numpy as np

from grader.calls import is_plain
from grader.diagnosis import Function, Mistake, Problem

SPEC = "What to implement (the spec)"  # the handout's section

compute_fans = Function("init.ipynb", "compute_fans")
zeros_init = Function("init.ipynb", "zeros_init")
lecun_normal = Function("init.ipynb", "lecun_normal")
xavier_normal = Function("init.ipynb", "xavier_normal")
xavier_uniform = Function("init.ipynb", "xavier_uniform")
kaiming_normal = Function("init.ipynb", "kaiming_normal")
kaiming_uniform = Function("init.ipynb", "kaiming_uniform")


def _normal_weights(std):
    """The course helper's ``normal_initializer(std)``, in this process (std 0: its zeros)."""
    return lambda shape, rng: rng.normal(0.0, std, size=tuple(int(s) for s in shape))


def _with_the_helpers_initializer(calls, position):
    """``activation_stds(init_fn, layer_sizes, x, rng)`` as the problem ``(std, layer_sizes, x,
    rng)``: ``init_fn`` is the one the recorded helper call made."""
    call = calls[position]
    init_fn = call.passed[0] if call.passed else None
    made = next((c for c in reversed(calls[:position]) if c.returned is init_fn and c.file == "course_rng"), None)
    if made is None or call.kwargs or not is_plain(call.args[1:]):
        return None
    if made.function == "normal_initializer" and is_plain(made.args) and not made.kwargs:
        std = float(made.args[0])
    elif made.function == "zeros_initializer":
        std = 0.0  # zero weights: every activation is 0, whatever is drawn
    else:
        return None
    return Problem((std, *call.args[1:]), {}, call.result)


activation_stds = Function(
    "init.ipynb", "activation_stds", view=_with_the_helpers_initializer,
    oracle=lambda init, std, layer_sizes, x, rng: init.activation_stds(_normal_weights(std), layer_sizes, x, rng),
)


def _fans(shape, *, swap_linear=False, conv_without_kernel=False, swap_conv=False):
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return (shape[1], shape[0]) if swap_linear else shape
    if len(shape) == 4:
        f, c, kh, kw = shape
        r = 1 if conv_without_kernel else kh * kw
        return (f * r, c * r) if swap_conv else (c * r, f * r)
    raise ValueError(f"{len(shape)} dimensions")


def _fan(shape, mode):
    return _fans(shape)[0 if mode == "fan_in" else 1]


def _torch_fans(shape):
    """PyTorch's rule: any number of dimensions from 2 up, the ones after the second a receptive field."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"{len(shape)} dimensions")
    if len(shape) == 2:
        return shape
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


def _torch_fan(shape, mode):
    return _torch_fans(shape)[0 if mode == "fan_in" else 1]


TORCH_STYLE = {  # each function as the reference writes it, with PyTorch's fans
    compute_fans: _torch_fans,
    zeros_init: lambda shape: (_torch_fans(shape), np.zeros(tuple(shape)))[1],
    lecun_normal: lambda shape, rng: rng.normal(0.0, math.sqrt(1.0 / _torch_fans(shape)[0]), size=tuple(shape)),
    xavier_normal: lambda shape, rng, gain=1.0: rng.normal(0.0, gain * math.sqrt(2.0 / sum(_torch_fans(shape))), size=tuple(shape)),
    xavier_uniform: lambda shape, rng, gain=1.0: rng.uniform(-gain * math.sqrt(6.0 / sum(_torch_fans(shape))), gain * math.sqrt(6.0 / sum(_torch_fans(shape))), size=tuple(shape)),
    kaiming_normal: lambda shape, rng, mode="fan_in": rng.normal(0.0, math.sqrt(2.0 / _torch_fan(shape, mode)), size=tuple(shape)),
    kaiming_uniform: lambda shape, rng, mode="fan_in": rng.uniform(-math.sqrt(6.0 / _torch_fan(shape, mode)), math.sqrt(6.0 / _torch_fan(shape, mode)), size=tuple(shape)),
}


def _stds(std, layer_sizes, x, rng, *, ddof=0, pre_relu=False, per_unit=False, own_rng=True):
    init_fn = _normal_weights(std)
    h = np.asarray(x, dtype=np.float64)
    stds = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        z = h @ init_fn((fan_in, fan_out), rng if own_rng else np.random.default_rng(0))
        h = np.maximum(z, 0.0)
        measured = z if pre_relu else h
        stds.append(float(measured.std(axis=0).mean() if per_unit else measured.std(ddof=ddof)))
    return stds


MISTAKES = [
    *(
        Mistake(
            function, "weights of any number of dimensions accepted",
            "Only a linear (D, M) or a convolution (F, C, KH, KW) weight has fans here: any other number of dimensions raises ValueError, in every function.",
            SPEC, wrong,
        )
        for function, wrong in TORCH_STYLE.items()
    ),
    Mistake(
        zeros_init, "zeros as integers",
        "Every initializer returns a float64 array: np.zeros(shape) (float64 by default), not an integer array.",
        SPEC, lambda shape: (_fans(shape), np.zeros(tuple(shape), dtype=int))[1],
    ),
    Mistake(
        compute_fans, "linear fans swapped",
        "A linear weight is (fan_in, fan_out) = (D, M): fan_in is shape[0], the number of inputs.",
        SPEC, lambda shape: _fans(shape, swap_linear=True),
    ),
    Mistake(
        compute_fans, "convolution fans without the kernel size",
        "Each output of a convolution sees C * KH * KW inputs: fan_in = C * KH * KW and fan_out = F * KH * KW.",
        SPEC, lambda shape: _fans(shape, conv_without_kernel=True),
    ),
    Mistake(
        compute_fans, "convolution fans swapped",
        "A convolution weight is (F, C, KH, KW): fan_in = C * KH * KW (the input channels), fan_out = F * KH * KW.",
        SPEC, lambda shape: _fans(shape, swap_conv=True),
    ),
    Mistake(
        lecun_normal, "LeCun normal scaled by fan_out",
        "LeCun initialisation has std sqrt(1 / fan_in), the number of inputs of the layer.",
        SPEC, lambda shape, rng: rng.normal(0.0, math.sqrt(1.0 / _fans(shape)[1]), size=tuple(shape)),
    ),
    Mistake(
        xavier_normal, "Xavier normal without the gain",
        "The std is gain * sqrt(2 / (fan_in + fan_out)): multiply by the gain argument.",
        SPEC, lambda shape, rng, gain=1.0: rng.normal(0.0, math.sqrt(2.0 / sum(_fans(shape))), size=tuple(shape)),
    ),
    Mistake(
        xavier_uniform, "Xavier uniform bound from the std formula",
        "U(-a, a) has std a / sqrt(3), so the bound is a = gain * sqrt(6 / (fan_in + fan_out)), not the normal's std gain * sqrt(2 / (fan_in + fan_out)).",
        SPEC, lambda shape, rng, gain=1.0: rng.uniform(-gain * math.sqrt(2.0 / sum(_fans(shape))), gain * math.sqrt(2.0 / sum(_fans(shape))), size=tuple(shape)),
    ),
    Mistake(
        kaiming_uniform, "Kaiming uniform bound without sqrt(3)",
        "U(-a, a) has std a / sqrt(3), so the bound is a = sqrt(6 / fan), not the normal's std sqrt(2 / fan).",
        SPEC, lambda shape, rng, mode="fan_in": rng.uniform(-math.sqrt(2.0 / _fan(shape, mode)), math.sqrt(2.0 / _fan(shape, mode)), size=tuple(shape)),
    ),
    Mistake(
        kaiming_uniform, "Kaiming uniform drawn from a normal",
        "kaiming_uniform draws from the UNIFORM law U(-a, a) with a = sqrt(6 / fan) (rng.uniform), not from a normal of the same variance.",
        SPEC, lambda shape, rng, mode="fan_in": rng.normal(0.0, math.sqrt(6.0 / _fan(shape, mode)) / math.sqrt(3.0), size=tuple(shape)),
    ),
    Mistake(
        kaiming_normal, "Kaiming normal ignores mode",
        "mode='fan_out' scales by fan_out: std sqrt(2 / fan) with fan chosen by mode.",
        SPEC, lambda shape, rng, mode="fan_in": rng.normal(0.0, math.sqrt(2.0 / _fans(shape)[0]), size=tuple(shape)),
    ),
    Mistake(
        activation_stds, "activation std with ddof=1",
        "The std is over all elements with ddof=0 (np.std's default), not the sample std with ddof=1.",
        SPEC, lambda std, layer_sizes, x, rng: _stds(std, layer_sizes, x, rng, ddof=1),
    ),
    Mistake(
        activation_stds, "activation std before the ReLU",
        "Measure each layer's activations AFTER the ReLU, h = relu(h_prev @ W).",
        SPEC, lambda std, layer_sizes, x, rng: _stds(std, layer_sizes, x, rng, pre_relu=True),
    ),
    Mistake(
        activation_stds, "activation std per unit, averaged",
        "The std is taken over ALL elements of the layer's activations at once (h.std()), not per unit and then averaged.",
        SPEC, lambda std, layer_sizes, x, rng: _stds(std, layer_sizes, x, rng, per_unit=True),
    ),
    Mistake(
        activation_stds, "weights not drawn from the rng argument",
        "Pass the rng argument to init_fn for every layer: the same rng gives the same weights, a new generator does not.",
        SPEC, lambda std, layer_sizes, x, rng: _stds(std, layer_sizes, x, rng, own_rng=False),
    ),
]
