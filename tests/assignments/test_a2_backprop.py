"""Planted submissions of a2_backprop, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.

The reference's datasets.py is copied into every planted submission; no test reads the student's copy of it.
"""

from tests.planted import Edit, Rewrite, Variant

ASSIGNMENT = "a2_backprop"
LAYERS, MLP = "layers.py", "mlp.py"
BACKWARD = "return dout @ W.T, x.T @ dout, dout.sum(axis=0)"
SGD_STEP = "params = {k: params[k] - lr * grads[k] for k in params}"

BUGGY = [
    Variant("linear_dW_transposed", (Edit(LAYERS, BACKWARD, "return dout @ W.T, dout.T @ x, dout.sum(axis=0)"),), mistake="dW transposed"),
    Variant("linear_db_summed_over_all_axes", (Edit(LAYERS, BACKWARD, "return dout @ W.T, x.T @ dout, dout.sum()"),), mistake="db summed over every axis"),
    Variant("linear_db_mean_over_the_batch", (Edit(LAYERS, BACKWARD, "return dout @ W.T, x.T @ dout, dout.mean(axis=0)"),), mistake="db averaged over the batch"),
    Variant("init_scale_sqrt_1_over_fan_in", (Edit(MLP, "* np.sqrt(2.0 / fan_in)", "* np.sqrt(1.0 / fan_in)"),), mistake="weights initialised with std sqrt(1 / fan_in)"),
    Variant("init_scale_uses_fan_out", (Edit(MLP, "* np.sqrt(2.0 / fan_in)", "* np.sqrt(2.0 / fan_out)"),), mistake="weights initialised with fan_out"),
    Variant("relu_after_the_last_layer_too", (Edit(MLP, "h = np.maximum(a, 0.0) if l < L else a", "h = np.maximum(a, 0.0)"),), mistake="ReLU after the last layer"),
    Variant("backward_skips_the_relu_mask", (Edit(MLP, "dh = np.where(a > 0, dh, 0.0)", "pass"),), mistake="backward pass skips the ReLU"),
    Variant("loss_summed_over_the_batch", (
        Edit(MLP, "return -np.mean(logp[rows, y]), dscores / n", "return -np.sum(logp[rows, y]), dscores"),
    ), mistake="loss summed over the batch"),
    Variant("reg_gradient_factor_2", (Edit(MLP, 'grads[f"W{l}"] = dW + reg * params[f"W{l}"]', 'grads[f"W{l}"] = dW + 2 * reg * params[f"W{l}"]'),), mistake="penalty gradient 2 reg W"),
    Variant("reg_penalty_missing_one_half", (
        Edit(MLP, 'penalty = 0.5 * reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))', 'penalty = reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))'),
    ), mistake="penalty without the one half"),
    Variant("reg_applied_to_the_biases", (
        Edit(MLP, 'penalty = 0.5 * reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))', "penalty = 0.5 * reg * sum(np.sum(p ** 2) for p in params.values())"),
        Edit(MLP, 'grads[f"b{l}"] = db', 'grads[f"b{l}"] = db + reg * params[f"b{l}"]'),
    ), mistake="biases penalised"),
    Variant("train_drops_the_final_partial_batch", (Edit(MLP, "for start in range(0, n, batch_size):", "for start in range(0, n - batch_size + 1, batch_size):"),), mistake="final partial batch dropped"),
    Variant("train_shuffles_only_once", (
        Edit(MLP, "    for _ in range(epochs):\n        order = rng.permutation(n)\n", "    order = rng.permutation(n)\n    for _ in range(epochs):\n"),
    ), mistake="training set shuffled once"),
    Variant("train_never_shuffles", (Edit(MLP, "order = rng.permutation(n)", "order = np.arange(n)"),), mistake="training set never shuffled"),
    Variant("train_shuffles_with_global_np_random", (Edit(MLP, "order = rng.permutation(n)", "order = np.random.permutation(n)"),)),
    Variant("train_shuffles_x_and_y_separately_in_place", (
        Edit(MLP, "        order = rng.permutation(n)\n", "        rng.shuffle(x_train)\n        rng.shuffle(y_train)\n        order = np.arange(n)\n"),
    ), mistake="x and y shuffled separately"),
    Variant("train_records_the_last_batch_loss", (Edit(MLP, 'history["train_loss"].append(float(np.mean(batch_losses)))', 'history["train_loss"].append(float(batch_losses[-1]))'),), mistake="epoch loss from the last batch only"),
    Variant("train_records_accuracy_on_the_training_set", (Edit(MLP, 'history["val_acc"].append(accuracy(params, x_val, y_val))', 'history["val_acc"].append(accuracy(params, x_train, y_train))'),), mistake="accuracy measured on the training set"),
    Variant("train_weights_the_epoch_loss_by_batch_size", (
        Edit(MLP, "batch_losses.append(loss)", "batch_losses.extend([loss] * len(batch))"),
    ), mistake="epoch loss weighted by batch size"),
    Variant("layers_in_the_sorted_order_of_their_names", (Rewrite("mlp.py", "_forward", '''
        def _forward(params, x):
            h = np.asarray(x, dtype=np.float64)
            names = sorted(k[1:] for k in params if k.startswith("W"))  # "1", "10", "11", "2", ...
            caches = []
            for i, l in enumerate(names):
                last = i == len(names) - 1
                a, linear_cache = linear_forward(h, params["W" + l], params["b" + l])
                h = a if last else np.maximum(a, 0.0)
                caches.append((linear_cache, None if last else a))
            return h, caches
    '''),)),
    Variant("train_records_val_acc_before_the_epoch", (
        Edit(MLP, "        order = rng.permutation(n)\n", "        history[\"val_acc\"].append(accuracy(params, x_val, y_val))\n        order = rng.permutation(n)\n"),
        Edit(MLP, '        history["val_acc"].append(accuracy(params, x_val, y_val))\n    return', "    return"),
    )),
    Variant("mlp_loss_default_reg_0_01", (Edit(MLP, "def mlp_loss(params, x, y, reg=0.0):", "def mlp_loss(params, x, y, reg=0.01):"),)),
    Variant("train_default_lr_0_01", (Edit(MLP, "*, lr=0.1, epochs=20,", "*, lr=0.01, epochs=20,"),)),
    Variant("train_starts_from_its_own_weights_of_std_sqrt_1_over_fan_in", (  # not init_mlp: Xavier-like std
        Edit(MLP, "    params = init_mlp(layer_sizes, rng)\n    x_train = np.asarray", "    params = {k: v / np.sqrt(2.0) if k[0] == 'W' else v for k, v in init_mlp(layer_sizes, rng).items()}\n    x_train = np.asarray"),
    )),
    Variant("train_starts_from_a_fixed_seed", (  # Kaiming normal, but not from rng
        Edit(MLP, "    params = init_mlp(layer_sizes, rng)\n    x_train = np.asarray", "    params = init_mlp(layer_sizes, np.random.default_rng(0))\n    x_train = np.asarray"),
    )),
]

CORRECT = [
    Variant("linear_with_einsum_and_loops", (
        Rewrite(LAYERS, "linear_forward", '''
            def linear_forward(x, W, b):
                return np.einsum("nd,dm->nm", x, W) + b[None, :], (x.copy(), W.copy())
        '''),
        Rewrite(LAYERS, "linear_backward", '''
            def linear_backward(dout, cache):
                x, W = cache
                dW = np.zeros_like(W)
                db = np.zeros(W.shape[1])
                for n in range(x.shape[0]):
                    dW += np.outer(x[n], dout[n])
                    db += dout[n]
                return np.einsum("nm,dm->nd", dout, W), dW, db
        '''),
    )),
    Variant("relu_mask_ge_and_logsumexp_loss", (
        Edit(MLP, "dh = np.where(a > 0, dh, 0.0)", "dh = dh * (a >= 0)"),
        Rewrite(MLP, "_softmax_cross_entropy", '''
            def _softmax_cross_entropy(scores, y):
                n = scores.shape[0]
                logp = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
                probs = np.exp(logp)
                onehot = np.zeros_like(probs)
                onehot[np.arange(n), y] = 1.0
                return -np.sum(logp * onehot) / n, (probs - onehot) / n
        '''),
        Edit(MLP, 'penalty = 0.5 * reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))', 'penalty = sum(0.5 * reg * np.linalg.norm(params[f"W{l}"]) ** 2 for l in range(1, L + 1))'),
    )),
    Variant("init_other_draw_order_and_in_place_sgd", (
        Rewrite(MLP, "init_mlp", '''
            def init_mlp(layer_sizes, rng):
                params = {}
                for l in range(len(layer_sizes) - 1, 0, -1):
                    fan_in, fan_out = layer_sizes[l - 1], layer_sizes[l]
                    params[f"b{l}"] = np.zeros(fan_out)
                    params[f"W{l}"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
                return params
        '''),
        Rewrite(MLP, "train_mlp", '''
            def train_mlp(x_train, y_train, x_val, y_val, layer_sizes, *, lr=0.1, epochs=20, batch_size=64, reg=0.0, rng):
                params = init_mlp(layer_sizes, rng)
                n = len(x_train)
                index = np.arange(n)
                history = {"val_acc": [], "train_loss": []}
                for epoch in range(epochs):
                    rng.shuffle(index)
                    total, count, start = 0.0, 0, 0
                    while start < n:
                        batch = index[start:start + batch_size]
                        loss, grads = mlp_loss(params, x_train[batch], y_train[batch], reg)
                        for key in params:
                            params[key] -= lr * grads[key]
                        total += loss
                        count += 1
                        start += batch_size
                    history["train_loss"].append(total / count)
                    predictions = mlp_forward(params, x_val).argmax(axis=1)
                    history["val_acc"].append(float((predictions == y_val).sum() / len(y_val)))
                return params, history
        '''),
    )),
    Variant("train_with_choice_and_array_split", (
        Rewrite(MLP, "train_mlp", '''
            def train_mlp(x_train, y_train, x_val, y_val, layer_sizes, *, lr=0.1, epochs=20, batch_size=64, reg=0.0, rng):
                params = init_mlp(layer_sizes, rng)
                n = x_train.shape[0]
                n_batches = -(-n // batch_size)
                history = {"train_loss": [], "val_acc": []}
                for _ in range(epochs):
                    order = rng.choice(n, size=n, replace=False)
                    losses = []
                    for batch in np.split(order, np.arange(batch_size, n, batch_size)):
                        loss, grads = mlp_loss(params, x_train[batch], y_train[batch], reg=reg)
                        params = {k: v - lr * grads[k] for k, v in params.items()}
                        losses.append(loss)
                    assert len(losses) == n_batches
                    history["train_loss"].append(sum(losses) / len(losses))
                    history["val_acc"].append(accuracy(params, x_val, y_val))
                return params, history
        '''),
    )),
    Variant("linear_cache_as_a_namedtuple", (
        Edit("layers.py", "import numpy as np\n", "from collections import namedtuple\n\nimport numpy as np\n\nLinearCache = namedtuple(\"LinearCache\", [\"x\", \"W\"])\n"),
        Edit("layers.py", "return x @ W + b, (x, W)", "return x @ W + b, LinearCache(x, W)"),
        Edit("layers.py", "x, W = cache\n", "x, W = cache.x, cache.W\n"),
    )),
    Variant("params_as_an_ordered_dict_and_history_as_a_defaultdict", (
        Edit(MLP, "import numpy as np\n", "from collections import OrderedDict, defaultdict\n\nimport numpy as np\n"),
        Edit(MLP, "    params = {}\n    for l, (fan_in", "    params = OrderedDict()\n    for l, (fan_in"),
        Edit(MLP, 'history = {"train_loss": [], "val_acc": []}', "history = defaultdict(list)"),
    )),
    Variant("history_with_more_records_than_the_two_graded", (
        Edit(MLP, 'history = {"train_loss": [], "val_acc": []}', 'history = {"train_loss": [], "val_acc": [], "train_acc": [], "val_loss": []}'),
        Edit(MLP, '        history["val_acc"].append(accuracy(params, x_val, y_val))\n',
             '        history["val_acc"].append(accuracy(params, x_val, y_val))\n        history["train_acc"].append(accuracy(params, x_train, y_train))\n        history["val_loss"].append(mlp_loss(params, x_val, y_val, reg=reg)[0])\n'),
    )),
    Variant("train_draws_every_shuffle_before_the_initial_weights", (
        Edit(MLP, "    params = init_mlp(layer_sizes, rng)\n    x_train = np.asarray(x_train, dtype=np.float64)\n    n = x_train.shape[0]\n",
             "    x_train = np.asarray(x_train, dtype=np.float64)\n    n = x_train.shape[0]\n    orders = [rng.permutation(n) for _ in range(epochs)]\n    params = init_mlp(layer_sizes, rng)\n"),
        Edit(MLP, "    for _ in range(epochs):\n        order = rng.permutation(n)\n", "    for order in orders:\n"),
    )),
]
