"""Planted submissions of a1_foundations, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.
"""

from tests.planted import Edit, Rewrite, SavedAs, Variant

ASSIGNMENT = "a1_foundations"
ACT, LOSS = "activations.py", "losses.py"

BUGGY = [
    Variant("relu_backward_mutates_dout", (Rewrite(ACT, "relu_backward", '''
        def relu_backward(dout, cache):
            dout[cache <= 0] = 0.0
            return dout
    '''),), mistake="dout modified in place"),
    Variant("relu_backward_masks_by_the_sign_of_dout", (Edit(ACT, "return np.where(x > 0, np.asarray(dout, dtype=np.float64), 0.0)", "return np.where(dout > 0, np.asarray(dout, dtype=np.float64), 0.0)"),), mistake="ReLU gradient masked by the sign of dout"),
    Variant("leaky_relu_backward_ignores_alpha", (Edit(ACT, "return np.where(x > 0, dout, alpha * dout)", "return np.where(x > 0, dout, 0.01 * dout)"),), mistake="leaky ReLU gradient with a fixed slope 0.01"),
    Variant("sigmoid_naive_overflow", (Rewrite(ACT, "sigmoid_forward", '''
        def sigmoid_forward(x):
            e = np.exp(x)
            out = e / (1.0 + e)
            return out, out
    '''),), mistake="sigmoid as exp(x) / (1 + exp(x))"),
    Variant("sigmoid_backward_uses_the_input", (Rewrite(ACT, "sigmoid_forward", '''
        def sigmoid_forward(x):
            x = np.asarray(x, dtype=np.float64)
            z = np.exp(-np.abs(x))
            return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)), x
    '''),), mistake="sigmoid derivative computed from x instead of sigmoid(x)"),
    Variant("tanh_backward_uses_the_input", (Rewrite(ACT, "tanh_forward", '''
        def tanh_forward(x):
            return np.tanh(x), x
    '''),), mistake="tanh derivative computed from x instead of tanh(x)"),
    Variant("tanh_naive_exponentials", (Rewrite(ACT, "tanh_forward", '''
        def tanh_forward(x):
            out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
            return out, out
    '''),), mistake="tanh from exponentials"),
    Variant("softmax_without_max_shift", (Rewrite(ACT, "softmax", '''
        def softmax(x):
            e = np.exp(x)
            return e / np.sum(e, axis=-1, keepdims=True)
    '''),), mistake="softmax without the max shift"),
    Variant("softmax_over_axis_0", (Rewrite(ACT, "softmax", '''
        def softmax(x):
            e = np.exp(x - np.max(x, axis=0, keepdims=True))
            return e / np.sum(e, axis=0, keepdims=True)
    '''),), mistake="softmax over the first axis"),
    Variant("softmax_normalised_over_the_whole_array", (Edit(ACT, "return e / np.sum(e, axis=-1, keepdims=True)", "return e / np.sum(e)"),), mistake="softmax normalised over the whole array"),
    Variant("log_softmax_as_log_of_softmax", (Rewrite(ACT, "log_softmax", '''
        def log_softmax(x):
            e = np.exp(x - np.max(x, axis=-1, keepdims=True))
            return np.log(e / np.sum(e, axis=-1, keepdims=True))
    '''),), mistake="log_softmax as the log of softmax"),
    Variant("mse_sum_instead_of_mean", (Edit(LOSS, "return float(np.mean(diff * diff)), 2.0 * diff / diff.size", "return float(np.sum(diff * diff)), 2.0 * diff"),), mistake="squared error summed instead of averaged"),
    Variant("mse_gradient_missing_factor_2", (Edit(LOSS, "return float(np.mean(diff * diff)), 2.0 * diff / diff.size", "return float(np.mean(diff * diff)), diff / diff.size"),), mistake="MSE gradient without the factor 2"),
    Variant("bce_via_log_of_sigmoid", (Rewrite(LOSS, "bce_with_logits_loss", '''
        def bce_with_logits_loss(logits, target):
            z = np.asarray(logits, dtype=np.float64)
            t = np.asarray(target, dtype=np.float64)
            s = 1.0 / (1.0 + np.exp(-z))
            loss = -np.mean(t * np.log(s) + (1.0 - t) * np.log(1.0 - s))
            return float(loss), (s - t) / z.size
    '''),), mistake="binary cross-entropy through log(sigmoid(z))"),
    Variant("bce_gradient_not_divided_by_n", (Edit(LOSS, "return float(loss), (sigmoid - t) / z.size", "return float(loss), sigmoid - t"),), mistake="binary cross-entropy gradient not divided by n"),
    Variant("cross_entropy_sum_instead_of_mean", (
        Edit(LOSS, "loss = -np.mean(logp[rows, labels])", "loss = -np.sum(logp[rows, labels])"),
        Edit(LOSS, "return float(loss), grad / n", "return float(loss), grad"),
    ), mistake="cross-entropy summed over the batch instead of averaged"),
    Variant("cross_entropy_gradient_missing_1_over_N", (Edit(LOSS, "return float(loss), grad / n", "return float(loss), grad"),), mistake="cross-entropy gradient not divided by N"),
    Variant("cross_entropy_labels_indexed_as_columns", (Edit(LOSS, "loss = -np.mean(logp[rows, labels])", "loss = -np.mean(logp[:, labels])"),), mistake="cross-entropy picks the label columns of every row"),
    Variant("relu_forward_writes_through_ravel_of_a_layout_keeping_copy", (Rewrite(ACT, "relu_forward", '''
        def relu_forward(x):
            out = np.copy(x)  # keeps x's memory order
            flat = out.ravel()  # a view of out only when out is C-contiguous
            flat[flat < 0] = 0.0
            return out, x
    '''),), mistake="writing through ravel() of a copy that keeps the memory order"),
    # state kept between calls instead of in the cache: right only when backward follows its own forward
    Variant("leaky_relu_alpha_kept_in_a_global", (
        Rewrite(ACT, "leaky_relu_forward", '''
            def leaky_relu_forward(x, alpha=0.01):
                global _alpha
                _alpha = alpha
                return np.where(x > 0, x, alpha * x), x
        '''),
        Rewrite(ACT, "leaky_relu_backward", '''
            def leaky_relu_backward(dout, cache):
                return np.where(cache > 0, dout, _alpha * dout)
        '''),
    )),
    Variant("relu_backward_reads_the_last_forward_input", (
        Rewrite(ACT, "relu_forward", '''
            def relu_forward(x):
                global _last_x
                _last_x = x
                return np.maximum(x, 0.0), None
        '''),
        Rewrite(ACT, "relu_backward", '''
            def relu_backward(dout, cache):
                return np.where(_last_x > 0, dout, 0.0)
        '''),
    )),
    # idempotent: a second backward call with the same cache gives the same dx, but the cache is
    # the caller's x, which the backward pass turns into 0s and 1s
    Variant("relu_backward_turns_the_cached_x_into_a_mask_in_place", (Rewrite(ACT, "relu_backward", '''
        def relu_backward(dout, cache):
            mask = cache
            mask[mask > 0] = 1
            mask[mask <= 0] = 0
            return dout * mask
    '''),)),
]

CORRECT = [
    Variant("relu_mask_x_ge_0_and_leaky_max", (
        Edit(ACT, "return np.where(x > 0, np.asarray(dout, dtype=np.float64), 0.0)", "return np.where(x >= 0, np.asarray(dout, dtype=np.float64), 0.0)"),
        Edit(ACT, "return np.where(x > 0, x, alpha * x), (x, alpha)", "return np.maximum(x, alpha * x), (x, alpha)"),
        Edit(ACT, "return np.where(x > 0, dout, alpha * dout)", "return np.where(x >= 0, dout, alpha * dout)"),
    )),
    Variant("relu_heaviside_half_and_naive_but_correct_sigmoid", (
        Rewrite(ACT, "relu_backward", '''
            def relu_backward(dout, cache):
                return dout * np.heaviside(cache, 0.5)
        '''),
        Rewrite(ACT, "sigmoid_forward", '''
            def sigmoid_forward(x):
                out = 1.0 / (1.0 + np.exp(-x))  # overflows to inf for x < -709, giving exactly 0: fine
                return out, out
        '''),
        Rewrite(ACT, "tanh_backward", '''
            def tanh_backward(dout, cache):
                return dout - dout * cache ** 2
        '''),
    )),
    Variant("logsumexp_softmax_and_pytorch_style_bce", (
        Rewrite(ACT, "log_softmax", '''
            def log_softmax(x):
                return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)
        '''),
        Rewrite(ACT, "softmax", '''
            def softmax(x):
                return np.exp(log_softmax(x))
        '''),
        Rewrite(LOSS, "bce_with_logits_loss", '''
            def bce_with_logits_loss(logits, target):
                z, t = logits, target
                per = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
                s = 0.5 * (1.0 + np.tanh(0.5 * z))
                return float(per.mean()), (s - t) / z.size
        '''),
    )),
    Variant("loops_over_examples", (
        Rewrite(LOSS, "softmax_cross_entropy_loss", '''
            def softmax_cross_entropy_loss(logits, labels):
                n, c = logits.shape
                total = 0.0
                grad = np.zeros((n, c))
                for i in range(n):
                    row = logits[i]
                    m = max(row)
                    denominator = sum(np.exp(v - m) for v in row)
                    total += -(row[labels[i]] - m - np.log(denominator))
                    for j in range(c):
                        grad[i, j] = np.exp(row[j] - m) / denominator / n
                    grad[i, labels[i]] -= 1.0 / n
                return total / n, grad
        '''),
        Rewrite(LOSS, "mse_loss", '''
            def mse_loss(pred, target):
                flat_p, flat_t = pred.ravel(), target.ravel()
                total = 0.0
                for a, b in zip(flat_p, flat_t):
                    total += (a - b) ** 2
                return total / flat_p.size, (2.0 / pred.size) * (pred - target)
        '''),
    )),
    Variant("caches_as_namedtuple_nested_tuple_class_instance_and_dict", (
        Rewrite(ACT, "relu_forward", '''
            from collections import namedtuple
            ReluCache = namedtuple("ReluCache", ["x"])

            def relu_forward(x):
                return np.maximum(x, 0.0), ReluCache(x)
        '''),
        Rewrite(ACT, "relu_backward", '''
            def relu_backward(dout, cache):
                return np.where(cache.x > 0, dout, 0.0)
        '''),
        Edit(ACT, "return np.where(x > 0, x, alpha * x), (x, alpha)", "return np.where(x > 0, x, alpha * x), ((x,), (alpha,))"),
        Edit(ACT, "x, alpha = cache", "(x,), (alpha,) = cache"),
        Rewrite(ACT, "sigmoid_forward", '''
            class SigmoidCache:
                def __init__(self, out):
                    self.out = out

            def sigmoid_forward(x):
                out = 0.5 * (1.0 + np.tanh(0.5 * x))
                return out, SigmoidCache(out)
        '''),
        Rewrite(ACT, "sigmoid_backward", '''
            def sigmoid_backward(dout, cache):
                return dout * cache.out * (1.0 - cache.out)
        '''),
        Edit(ACT, "return out, out\n\n\ndef tanh_backward", "return out, {\"out\": out}\n\n\ndef tanh_backward"),
        Edit(ACT, "t = cache\n", "t = cache[\"out\"]\n"),
    )),
    Variant("saved_with_bom_and_crlf_and_as_declared_latin_1", (
        SavedAs(ACT, "utf-8-sig", "\r\n"),
        Edit(LOSS, '"mean" as in PyTorch\'s default reduction.', '"mean" as in PyTorch\'s default reduction (\u00e9t\u00e9, na\u00efve, \u00b1).'),
        SavedAs(LOSS, "latin-1", "\r\n"),
    )),
    # a sibling imported inside a function, when the loss is called (not when the file loads)
    Variant("sibling_imported_inside_the_function_and_lse_minus_picked_logit", (
        Rewrite(LOSS, "bce_with_logits_loss", '''
            def bce_with_logits_loss(logits, target):
                from activations import sigmoid_forward
                loss = np.mean(np.logaddexp(0, logits) - target * logits)
                s, _ = sigmoid_forward(logits)
                return loss, (s - target) / logits.size
        '''),
        Rewrite(LOSS, "softmax_cross_entropy_loss", '''
            def softmax_cross_entropy_loss(logits, labels):
                n = len(labels)
                m = logits.max(axis=1, keepdims=True)
                lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
                picked = np.take_along_axis(logits, labels.reshape(-1, 1), axis=1)
                p = np.exp(logits - lse)
                p[np.arange(n), labels] -= 1
                return float(np.mean(lse - picked)), p / n
        '''),
    )),
]
