"""Known mistakes of a2_backprop (``grader.diagnosis``): judge-only, never released.

Each ``wrong`` computes the mistaken answer from the oracle's inputs, written as the mistake is
usually written. The network's mistakes come from one MLP written like the reference with one
switch thrown (``_Net``); ``init_mlp`` and ``train_mlp`` draw from the ``rng`` they are given in
the reference's order, so a student who made the mistake draws exactly the same numbers.
"""

from dataclasses import dataclass, replace

import numpy as np

from grader.diagnosis import Function, Mistake

LAYER = "`layers.py` — the linear (affine) layer"  # the handout's sections
NETWORK = "`mlp.py` — the network and its training"

linear_backward = Function("layers.py", "linear_backward", forward="linear_forward")
init_mlp = Function("mlp.py", "init_mlp")
mlp_forward = Function("mlp.py", "mlp_forward")
mlp_loss = Function("mlp.py", "mlp_loss")
train_mlp = Function("mlp.py", "train_mlp")


@dataclass(frozen=True)
class _Net:
    """The reference MLP, each field a switch for one mistake (the defaults are right)."""

    init_scale: str = "2/fan_in"  # or "1/fan_in", "2/fan_out"
    relu_on_last: str = "no"  # or "forward only" (the backward still skips the last layer), "forward and backward"
    relu_mask_in_backward: bool = True
    loss_reduce: str = "mean"  # or "sum"
    reg_grad_factor: float = 1.0
    penalty_factor: float = 0.5
    penalise_biases: bool = False
    layers_sorted_by_name: bool = False
    drop_partial_batch: bool = False
    shuffle: str = "every epoch"  # or "once", "never", "x and y separately"
    epoch_loss: str = "mean of batches"  # or "last batch", "weighted by batch size"
    accuracy_on: str = "validation"  # or "training"

    def init(self, layer_sizes, rng):
        params = {}
        for l, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
            scale = {"2/fan_in": 2.0 / fan_in, "1/fan_in": 1.0 / fan_in, "2/fan_out": 2.0 / fan_out}[self.init_scale]
            params[f"W{l}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(scale)
            params[f"b{l}"] = np.zeros(fan_out)
        return params

    def _layers(self, params):
        names = [k[1:] for k in params if k.startswith("W")]
        return sorted(names) if self.layers_sorted_by_name else sorted(names, key=int)

    def forward(self, params, x):
        h = np.asarray(x, dtype=np.float64)
        names = self._layers(params)
        caches = []
        for i, l in enumerate(names):
            last = i == len(names) - 1
            a = h @ params["W" + l] + params["b" + l]
            caches.append((l, h, None if last and self.relu_on_last != "forward and backward" else a))
            h = a if last and self.relu_on_last == "no" else np.maximum(a, 0.0)
        return h, caches

    def loss(self, params, x, y, reg=0.0):
        scores, caches = self.forward(params, x)
        shifted = scores - scores.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = scores.shape[0]
        rows = np.arange(n)
        dh = np.exp(logp)
        dh[rows, y] -= 1.0
        if self.loss_reduce == "mean":
            data_loss, dh = -np.mean(logp[rows, y]), dh / n
        else:
            data_loss = -np.sum(logp[rows, y])
        penalised = [k for k in params if k.startswith("W") or self.penalise_biases]
        penalty = self.penalty_factor * reg * sum(np.sum(params[k] ** 2) for k in penalised)
        grads = {}
        for l, h, a in reversed(caches):
            if a is not None and self.relu_mask_in_backward:
                dh = np.where(a > 0, dh, 0.0)
            W = params["W" + l]
            grads["W" + l] = h.T @ dh + self.reg_grad_factor * reg * W
            grads["b" + l] = dh.sum(axis=0) + (reg * params["b" + l] if self.penalise_biases else 0.0)
            dh = dh @ W.T
        return float(data_loss + penalty), {k: grads[k] for k in params}

    def accuracy(self, params, x, y):
        return float(np.mean(np.argmax(self.forward(params, x)[0], axis=1) == y))

    def train(self, x_train, y_train, x_val, y_val, layer_sizes, *, lr=0.1, epochs=20, batch_size=64, reg=0.0, rng):
        params = self.init(layer_sizes, rng)
        x_train, y_train = np.array(x_train, dtype=np.float64), np.array(y_train)
        n = x_train.shape[0]
        history = {"train_loss": [], "val_acc": []}
        order = rng.permutation(n) if self.shuffle == "once" else None
        for _ in range(epochs):
            if self.shuffle == "every epoch":
                order = rng.permutation(n)
            elif self.shuffle == "never":
                order = np.arange(n)
            elif self.shuffle == "x and y separately":
                rng.shuffle(x_train)
                rng.shuffle(y_train)
                order = np.arange(n)
            losses, sizes = [], []
            stop = n - batch_size + 1 if self.drop_partial_batch else n
            for start in range(0, stop, batch_size):
                batch = order[start:start + batch_size]
                loss, grads = self.loss(params, x_train[batch], y_train[batch], reg=reg)
                params = {k: params[k] - lr * grads[k] for k in params}
                losses.append(loss)
                sizes.append(len(batch))
            recorded = {
                "mean of batches": lambda: float(np.mean(losses)),
                "last batch": lambda: float(losses[-1]),
                "weighted by batch size": lambda: float(np.mean(np.repeat(losses, sizes))),
            }[self.epoch_loss]()
            history["train_loss"].append(recorded)
            on = (x_val, y_val) if self.accuracy_on == "validation" else (x_train, y_train)
            history["val_acc"].append(self.accuracy(params, *on))
        return params, history


RIGHT = _Net()


def _network_mistake(name, explanation, functions, **switch):
    """The same mistake in each of ``functions`` (``init``, ``forward``, ``loss``, ``train``)."""
    net = replace(RIGHT, **switch)
    wrongs = {
        init_mlp: net.init,
        mlp_forward: lambda params, x: net.forward(params, x)[0],
        mlp_loss: net.loss,
        train_mlp: net.train,
    }
    return [Mistake(function, name, explanation, NETWORK, wrongs[function]) for function in functions]


MISTAKES = [
    Mistake(
        linear_backward, "dW transposed",
        "dW = x.T @ dout has W's shape (D, M); dout.T @ x is its transpose (M, D).",
        LAYER, lambda dout, x, W, b: (dout @ W.T, dout.T @ x, dout.sum(axis=0)),
    ),
    Mistake(
        linear_backward, "db summed over every axis",
        "db has one entry per output unit: sum dout over the batch axis only, dout.sum(axis=0), shape (M,).",
        LAYER, lambda dout, x, W, b: (dout @ W.T, x.T @ dout, dout.sum()),
    ),
    Mistake(
        linear_backward, "db averaged over the batch",
        "b is added to every example, so its gradient is the SUM of dout over the batch, not the mean.",
        LAYER, lambda dout, x, W, b: (dout @ W.T, x.T @ dout, dout.mean(axis=0)),
    ),
    *_network_mistake(
        "weights initialised with std sqrt(1 / fan_in)",
        "Kaiming-normal initialisation for ReLU layers uses std sqrt(2 / fan_in); sqrt(1 / fan_in) is LeCun's.",
        [init_mlp], init_scale="1/fan_in",
    ),
    *_network_mistake(
        "weights initialised with fan_out",
        "Kaiming-normal initialisation scales by the number of INPUTS of the layer: std sqrt(2 / fan_in), fan_in = W.shape[0].",
        [init_mlp], init_scale="2/fan_out",
    ),
    *_network_mistake(
        "ReLU after the last layer",
        "The last linear layer gives the logits directly: ReLU goes between layers, never after the last one.",
        [mlp_forward, mlp_loss, train_mlp], relu_on_last="forward only",
    ),
    *_network_mistake(
        "ReLU after the last layer",
        "The last linear layer gives the logits directly: ReLU goes between layers, never after the last one.",
        [mlp_loss, train_mlp], relu_on_last="forward and backward",
    ),
    *_network_mistake(
        "backward pass skips the ReLU",
        "Going back through a ReLU, the gradient is zeroed where the layer's pre-activation was not positive (dh * [a > 0]).",
        [mlp_loss, train_mlp], relu_mask_in_backward=False,
    ),
    *_network_mistake(
        "loss summed over the batch",
        "The data loss is the MEAN over the batch of the examples' cross-entropies, and its gradient is divided by N too.",
        [mlp_loss, train_mlp], loss_reduce="sum",
    ),
    *_network_mistake(
        "penalty gradient 2 reg W",
        "The penalty is 0.5 * reg * sum(W ** 2), whose gradient is reg * W: the one half cancels the 2.",
        [mlp_loss, train_mlp], reg_grad_factor=2.0,
    ),
    *_network_mistake(
        "penalty without the one half",
        "The penalty is 0.5 * reg * sum(W ** 2) over every W.",
        [mlp_loss, train_mlp], penalty_factor=1.0,
    ),
    *_network_mistake(
        "biases penalised",
        "The L2 penalty is over the weights W only: the biases get neither a penalty nor its gradient.",
        [mlp_loss, train_mlp], penalise_biases=True,
    ),
    *_network_mistake(
        "layers taken in the sorted order of their names",
        "Layer names sort as text (W1, W10, W11, W2, ...): go through the layers by number, 1 to L.",
        [mlp_forward], layers_sorted_by_name=True,
    ),
    *_network_mistake(
        "final partial batch dropped",
        "Every example is used in every epoch: the last batch holds what is left, even if fewer than batch_size.",
        [train_mlp], drop_partial_batch=True,
    ),
    *_network_mistake(
        "training set shuffled once",
        "Each epoch visits the examples in a FRESH order: draw rng.permutation(N) at the start of every epoch.",
        [train_mlp], shuffle="once",
    ),
    *_network_mistake(
        "training set never shuffled",
        "Each epoch visits the examples in a fresh random order, rng.permutation(N), not in the order given.",
        [train_mlp], shuffle="never",
    ),
    *_network_mistake(
        "x and y shuffled separately",
        "Shuffling x and y with two draws pairs examples with the wrong labels: index both with one permutation, x[order], y[order].",
        [train_mlp], shuffle="x and y separately",
    ),
    *_network_mistake(
        "epoch loss from the last batch only",
        "history['train_loss'] holds the mean over the epoch's batches of the batch loss, not the last batch's loss.",
        [train_mlp], epoch_loss="last batch",
    ),
    *_network_mistake(
        "epoch loss weighted by batch size",
        "history['train_loss'] is the plain mean of the batch losses, each batch counting once, the smaller last one included.",
        [train_mlp], epoch_loss="weighted by batch size",
    ),
    *_network_mistake(
        "accuracy measured on the training set",
        "history['val_acc'] is the accuracy on the VALIDATION set (x_val, y_val) after each epoch.",
        [train_mlp], accuracy_on="training",
    ),
]
