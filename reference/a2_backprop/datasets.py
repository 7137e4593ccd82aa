"""Small synthetic classification data sets for train_mlp, generated from an rng (no downloads).

The same Generator state gives the same data set.
"""

import numpy as np


def make_spirals(n_per_class, rng, *, n_classes=3, turns=1.0, noise=0.2):
    """Interleaved 2-D spirals, one arm per class: x (n_per_class * n_classes, 2), y integers.

    Arm k at radius r in [0, 1] has angle 2 pi (k / n_classes + turns * r), plus Gaussian
    angular noise of std `noise` (radians, scaled by r so the centre stays tidy). No straight
    line separates the arms, so a linear model fails and an MLP succeeds. Rows are shuffled.
    """
    r = np.tile(np.linspace(0.05, 1.0, n_per_class), n_classes)
    y = np.repeat(np.arange(n_classes), n_per_class)
    theta = 2 * np.pi * (y / n_classes + turns * r) + noise * r * rng.standard_normal(r.size)
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    order = rng.permutation(y.size)
    return x[order], y[order]
