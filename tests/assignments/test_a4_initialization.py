"""Planted submissions of a4_initialization, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.

Submitted as a notebook (one code cell per top-level statement), so the notebook path is graded too.
"""

from __future__ import annotations


from tests.planted import Edit, Rewrite, Variant

A = "a4_initialization"
F = "init.py"


TORCH_STYLE_FANS = '''
def compute_fans(shape):
    """Like torch: any number of dimensions from 2 up (so 3-D and 5-D are accepted)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"shape={shape!r} has fewer than 2 dimensions")
    receptive_field = math.prod(shape[2:])
    if len(shape) == 2:
        return shape[0], shape[1]
    return shape[1] * receptive_field, shape[0] * receptive_field
'''

GLOBAL_RANDOM_LECUN = '''
def lecun_normal(shape, rng):
    fan_in, _ = compute_fans(shape)
    return np.random.normal(0.0, math.sqrt(1.0 / fan_in), size=tuple(shape))
'''

NORMAL_NOT_UNIFORM = '''
def kaiming_uniform(shape, rng, mode="fan_in"):
    a = math.sqrt(6.0 / _fan(shape, mode))
    return rng.normal(0.0, a / math.sqrt(3.0), size=tuple(shape))  # the right variance, the wrong law
'''

PRE_RELU_STDS = '''
def activation_stds(init_fn, layer_sizes, x, rng):
    h = np.asarray(x, dtype=np.float64)
    stds = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        z = h @ init_fn((fan_in, fan_out), rng)
        stds.append(float(z.std()))
        h = np.maximum(z, 0.0)
    return stds
'''

BUGGY = [
    Variant("linear fans swapped", (Edit(F, "fan_in, fan_out = shape\n", "fan_out, fan_in = shape\n"),), mistake="linear fans swapped"),
    Variant("conv fan ignores the kernel", (Edit(F, "return c * receptive_field, f * receptive_field", "return c, f"),), mistake="convolution fans without the kernel size"),
    Variant("conv fans swapped", (Edit(F, "return c * receptive_field, f * receptive_field", "return f * receptive_field, c * receptive_field"),), mistake="convolution fans swapped"),
    Variant("lecun_normal uses fan_out", (Edit(F, "fan_in, _ = compute_fans(shape)\n    std = math.sqrt(1.0 / fan_in)", "_, fan_in = compute_fans(shape)\n    std = math.sqrt(1.0 / fan_in)"),), mistake="LeCun normal scaled by fan_out"),
    Variant("xavier_normal ignores gain", (Edit(F, "std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = math.sqrt(2.0 / (fan_in + fan_out))"),), mistake="Xavier normal without the gain"),
    Variant("xavier_uniform uses the std formula as its bound", (Edit(F, "a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = gain * math.sqrt(2.0 / (fan_in + fan_out))"),), mistake="Xavier uniform bound from the std formula"),
    Variant("kaiming_uniform bound without sqrt(3)", (Edit(F, "a = math.sqrt(6.0 / _fan(shape, mode))", "a = math.sqrt(2.0 / _fan(shape, mode))"),), mistake="Kaiming uniform bound without sqrt(3)"),
    Variant("kaiming_uniform draws a normal", (Rewrite(F, "kaiming_uniform", NORMAL_NOT_UNIFORM),), mistake="Kaiming uniform drawn from a normal"),
    Variant("kaiming_normal ignores mode", (Edit(F, "std = math.sqrt(2.0 / _fan(shape, mode))", "std = math.sqrt(2.0 / compute_fans(shape)[0])"),), mistake="Kaiming normal ignores mode"),
    Variant("lecun_normal draws from np.random", (Rewrite(F, "lecun_normal", GLOBAL_RANDOM_LECUN),)),
    Variant("zeros_init returns ints", (Edit(F, "np.zeros(tuple(shape), dtype=np.float64)", "np.zeros(tuple(shape), dtype=int)"),), mistake="zeros as integers"),
    Variant("compute_fans accepts 3-D and 5-D (torch style)", (Rewrite(F, "compute_fans", TORCH_STYLE_FANS),), mistake="weights of any number of dimensions accepted"),
    Variant("activation_stds with ddof=1", (Edit(F, "stds.append(float(h.std()))", "stds.append(float(h.std(ddof=1)))"),), mistake="activation std with ddof=1"),
    Variant("activation_stds of the pre-ReLU values", (Rewrite(F, "activation_stds", PRE_RELU_STDS),), mistake="activation std before the ReLU"),
    Variant("activation_stds: per-unit std averaged", (Edit(F, "stds.append(float(h.std()))", "stds.append(float(h.std(axis=0).mean()))"),), mistake="activation std per unit, averaged"),
    Variant("activation_stds ignores its rng", (Edit(F, "w = init_fn((fan_in, fan_out), rng)", "w = init_fn((fan_in, fan_out), np.random.default_rng(0))"),), mistake="weights not drawn from the rng argument"),
]

NUMPY_STYLE = (
    Rewrite(F, "compute_fans", '''
def compute_fans(shape):
    if len(shape) not in (2, 4):
        raise ValueError(f"{len(shape)}-D weight: expected (D, M) or (F, C, KH, KW)")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = np.prod(shape[2:], dtype=np.int64)  # numpy ints come back
    return shape[1] * receptive_field, shape[0] * receptive_field
'''),
    Rewrite(F, "lecun_normal", '''
def lecun_normal(shape, rng):
    return math.sqrt(1.0 / compute_fans(shape)[0]) * rng.standard_normal(tuple(shape))
'''),
    Rewrite(F, "xavier_uniform", '''
def xavier_uniform(shape, rng, gain=1.0):
    fan_in, fan_out = compute_fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return a * (2.0 * rng.random(tuple(shape)) - 1.0)
'''),
    Rewrite(F, "activation_stds", '''
def activation_stds(init_fn, layer_sizes, x, rng):
    weights = [init_fn((a, b), rng) for a, b in zip(layer_sizes, layer_sizes[1:])]  # same order
    stds, h = [], x
    for w in weights:
        h = (h @ w).clip(min=0.0)
        stds.append(float(np.sqrt(np.mean((h - h.mean()) ** 2))))
    return stds
'''),
)

KEYWORD_STYLE = (
    Rewrite(F, "_fan", '''
def _fan(shape, mode):
    return dict(zip(("fan_in", "fan_out"), compute_fans(shape)))[mode]
'''),
    Rewrite(F, "kaiming_uniform", '''
def kaiming_uniform(shape, rng, mode="fan_in"):
    bound = math.sqrt(3.0) * math.sqrt(2.0 / _fan(shape, mode))
    return rng.uniform(low=-bound, high=bound, size=shape)
'''),
    Rewrite(F, "xavier_normal", '''
def xavier_normal(shape, rng, gain=1.0):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(scale=gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape)
'''),
    Rewrite(F, "zeros_init", '''
def zeros_init(shape):
    compute_fans(shape)
    return np.zeros(shape)
'''),
    Rewrite(F, "activation_stds", '''
def activation_stds(init_fn, layer_sizes, x, rng):
    stds, h, layer = [], x.copy(), 1
    while layer < len(layer_sizes):
        z = h.dot(init_fn([layer_sizes[layer - 1], layer_sizes[layer]], rng))
        h = np.where(z >= 0, z, 0.0)
        stds.append(np.std(h))
        layer += 1
    return stds
'''),
)

SCALED_STANDARD = (
    Rewrite(F, "kaiming_normal", '''
def kaiming_normal(shape, rng, mode="fan_in"):
    fan_in, fan_out = compute_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out}[mode]
    w = rng.standard_normal(size=tuple(shape))
    w *= math.sqrt(2.0) / math.sqrt(fan)
    return w
'''),
    Rewrite(F, "compute_fans", '''
def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) != 4:
        raise ValueError("only linear (2-D) and conv (4-D) weights have fans")
    f, c, kh, kw = (int(s) for s in shape)
    return c * kh * kw, f * kh * kw
'''),
)

CORRECT = [
    Variant("numpy style: np.prod fans, standard_normal, rng.random, weights drawn first", NUMPY_STYLE),
    Variant("keywords, dict lookup of the mode, list shapes, mask z >= 0, numpy float stds", KEYWORD_STYLE),
    Variant("scaled standard normal in place, explicit fans", SCALED_STANDARD),
]
