"""Planted submissions of a9_torch, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.

``GPU_BUGGY``: bugs that only a GPU can show (a batch left on the CPU works on a CPU); graded
only where CUDA is available. Submitted as a notebook, so the notebook path is graded too.

``UNOBSERVABLE``: mistakes no test can see, since every verdict is taken outside the student's
process from plain data; listed with the reason, not graded.
"""

from tests.planted import Edit, Rewrite, SavedAs, Variant

ASSIGNMENT = "a9_torch"
TP = "torch_practice.py"


BUGGY = [
    # get_device
    Variant("get_device_always_cpu", (Rewrite(TP, "get_device", '''
        def get_device():
            return torch.device("cpu")
    '''),)),
    Variant("get_device_returns_a_string", (Rewrite(TP, "get_device", '''
        def get_device():
            return "cuda" if torch.cuda.is_available() else "cpu"
    '''),)),
    # build_mlp
    Variant("build_mlp_without_dropout", (Edit(TP, "        nn.Dropout(p_drop),\n", ""),)),
    Variant("build_mlp_dropout_on_the_logits", (Rewrite(TP, "build_mlp", '''
        def build_mlp(in_features, hidden, out_features, p_drop):
            return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features), nn.Dropout(p_drop))
    '''),)),
    Variant("build_mlp_keep_probability_for_p", (Edit(TP, "nn.Dropout(p_drop)", "nn.Dropout(1 - p_drop)"),)),
    Variant("build_mlp_dropout_in_place_after_the_relu", (Edit(TP, "nn.Dropout(p_drop)", "nn.Dropout(p_drop, inplace=True)"),)),  # same outputs, but backward raises in train mode
    # train_epoch
    Variant("train_epoch_without_zero_grad", (Edit(TP, "        optimizer.zero_grad()\n", ""),)),
    Variant("train_epoch_mean_weighted_by_batch_size", (Rewrite(TP, "train_epoch", '''
        def train_epoch(model, loader, optimizer, loss_fn, device):
            model.train()
            total, count = 0.0, 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(y)
                count += len(y)
            return total / count
    '''),)),
    Variant("train_epoch_without_train_mode", (Edit(TP, "    model.train()\n    losses = []", "    losses = []"),)),
    Variant("train_epoch_returns_a_tensor", (Edit(TP, "losses.append(loss.item())", "losses.append(loss.detach())"),)),
    Variant("train_epoch_steps_once_per_epoch", (Rewrite(TP, "train_epoch", '''
        def train_epoch(model, loader, optimizer, loss_fn, device):
            model.train()
            optimizer.zero_grad()
            losses = []
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                loss = loss_fn(model(x), y)
                loss.backward()
                losses.append(loss.item())
            optimizer.step()
            return sum(losses) / len(losses)
    '''),)),
    # evaluate
    Variant("evaluate_leaves_dropout_on", (Edit(TP, "    model.eval()\n    correct, total", "    model.train()\n    correct, total"),)),
    Variant("evaluate_backpropagates_the_loss", (Rewrite(TP, "evaluate", '''
        def evaluate(model, loader, device):
            model.eval()
            correct, total = 0, 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                nn.functional.cross_entropy(logits, y).backward()
                correct += int((logits.argmax(dim=1) == y).sum().item())
                total += y.shape[0]
            return correct / total
    '''),)),
    Variant("evaluate_mean_of_batch_accuracies", (Rewrite(TP, "evaluate", '''
        def evaluate(model, loader, device):
            model.eval()
            accuracies = []
            with torch.no_grad():
                for x, y in loader:
                    x, y = x.to(device), y.to(device)
                    accuracies.append((model(x).argmax(dim=1) == y).double().mean().item())
            return sum(accuracies) / len(accuracies)
    '''),)),
    # mc_dropout_predict
    Variant("mc_dropout_unbiased_std", (Edit(TP, "probs.std(dim=0, correction=0)", "probs.std(dim=0)"),)),
    Variant("mc_dropout_averages_logits", (Edit(
        TP,
        "probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)])\n    finally:\n        model.train(was_training)\n    mean = probs.mean(dim=0)",
        "probs = torch.stack([model(x) for _ in range(n_samples)])\n    finally:\n        model.train(was_training)\n    mean = torch.softmax(probs.mean(dim=0), dim=1)\n    probs = torch.softmax(probs, dim=2)",
    ),)),
    Variant("mc_dropout_does_not_restore_the_mode", (Edit(TP, "    finally:\n        model.train(was_training)\n", "    finally:\n        pass\n"),)),
    Variant("mc_dropout_samples_in_eval_mode", (Edit(TP, "model.train()  # dropout active", "model.eval()"),)),
    Variant("mc_dropout_softmax_over_the_batch", (Edit(TP, "torch.softmax(model(x), dim=1)", "torch.softmax(model(x), dim=0)"),)),
    Variant("mc_dropout_statistics_over_the_wrong_dim", (Edit(
        TP, "    mean = probs.mean(dim=0)\n    std = probs.std(dim=0, correction=0)", "    mean = probs.mean(dim=1)\n    std = probs.std(dim=1, correction=0)"
    ),)),
    Variant("mc_dropout_builds_a_graph", (Edit(
        TP,
        "        with torch.no_grad():\n            probs = torch.stack(",
        "        if True:\n            probs = torch.stack(",
    ),)),
]

UNOBSERVABLE = [
    # Mistakes no test can see from outside the student's process (every verdict is taken there,
    # from plain data). Listed so that nobody mistakes them for caught; not graded.
    # Dropout before the ReLU is the same function: relu(m * z / (1 - p)) = m * relu(z) / (1 - p)
    # for a mask m >= 0, in both modes, to the last bit; only the order of the modules differs.
    Variant("build_mlp_dropout_before_relu", (Edit(TP, "        nn.ReLU(),\n        nn.Dropout(p_drop),\n", "        nn.Dropout(p_drop),\n        nn.ReLU(),\n"),)),
    # A graph recorded and dropped leaves no trace in the accuracy, the parameters or their
    # gradients (test_evaluate_leaves_parameters_and_gradients_unchanged checks what a backward
    # pass would leave: evaluate_backpropagates_the_loss).
    Variant("evaluate_builds_a_graph", (Rewrite(TP, "evaluate", '''
        def evaluate(model, loader, device):
            model.eval()
            correct, total = 0, 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                predictions = model(x).argmax(dim=1)
                correct += int((predictions == y).sum().item())
                total += y.shape[0]
            return correct / total
    '''),)),
]

GPU_BUGGY = [
    Variant("train_epoch_leaves_batches_on_the_cpu", (Edit(TP, "        x, y = x.to(device), y.to(device)\n        optimizer.zero_grad()", "        optimizer.zero_grad()"),)),
    Variant("evaluate_leaves_batches_on_the_cpu", (Edit(TP, "            x, y = x.to(device), y.to(device)\n            predictions", "            predictions"),)),
    Variant("mc_dropout_returns_cpu_tensors", (Edit(TP, "return mean.to(x.device), std.to(x.device)", "return mean.cpu(), std.cpu()"),)),
]

CORRECT = [
    Variant("build_mlp_with_functional_relu_and_dropout", (Rewrite(TP, "build_mlp", '''
        def build_mlp(in_features, hidden, out_features, p_drop):
            class MLP(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.hidden = nn.Linear(in_features, hidden)
                    self.out = nn.Linear(hidden, out_features)

                def forward(self, x):
                    h = torch.nn.functional.relu(self.hidden(x))
                    return self.out(torch.nn.functional.dropout(h, p=p_drop, training=self.training))

            return MLP()
    '''),)),
    Variant("evaluate_with_train_false_after_zeroing_the_gradients", (Rewrite(TP, "evaluate", '''
        def evaluate(model, loader, device):
            model.train(False)
            model.zero_grad()  # harmless: evaluate accumulates no gradient
            correct, total = 0, 0
            with torch.no_grad():
                for x, y in loader:
                    logits = model(x.to(device))
                    correct += (logits.argmax(dim=1) == y.to(device)).sum().item()
                    total += len(y)
            return correct / total
    '''),)),
    Variant("build_mlp_as_a_module_class_registered_in_another_order", (Rewrite(TP, "build_mlp", '''
        def build_mlp(in_features, hidden, out_features, p_drop):
            class MLP(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.drop = nn.Dropout(p=p_drop)   # registered first, called third
                    self.out = nn.Linear(hidden, out_features)
                    self.act = nn.ReLU()
                    self.fc = nn.Linear(in_features, hidden)

                def forward(self, x):
                    return self.out(self.drop(self.act(self.fc(x))))

            return MLP()
    '''),)),
    Variant("mc_dropout_one_batched_pass_with_only_dropout_switched_on", (Rewrite(TP, "mc_dropout_predict", '''
        def mc_dropout_predict(model, x, n_samples):
            was_training = model.training
            model.eval()
            for module in model.modules():
                if isinstance(module, nn.Dropout):
                    module.train()
            try:
                with torch.inference_mode():
                    logits = model(x.repeat(n_samples, 1))
            finally:
                model.train(was_training)
            probs = torch.softmax(logits, dim=1).reshape(n_samples, x.shape[0], -1)
            mean = probs.sum(dim=0) / n_samples
            std = ((probs - mean) ** 2).mean(dim=0).sqrt()
            return mean.clone(), std.clone()
    '''),)),
    Variant("loops_written_another_way", (
        Rewrite(TP, "get_device", '''
            def get_device():
                if torch.cuda.is_available():
                    return torch.device("cuda:0")
                return torch.device("cpu")
        '''),
        Rewrite(TP, "train_epoch", '''
            def train_epoch(model, loader, optimizer, loss_fn, device):
                model.train(True)
                total, batches = 0.0, 0
                for batch, (x, y) in enumerate(loader, start=1):
                    logits = model(x.to(device, non_blocking=True))
                    loss = loss_fn(logits, y.to(device))
                    model.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += float(loss)
                    batches = batch
                return total / batches
        '''),
        Rewrite(TP, "evaluate", '''
            def evaluate(model, loader, device):
                was_training = model.training
                model.eval()
                hits, seen = [], 0
                with torch.inference_mode():
                    for x, y in loader:
                        hits.append(model(x.to(device)).argmax(1).eq(y.to(device)))
                        seen += len(y)
                model.train(was_training)  # the mode afterwards is not specified: restoring it is fine
                return torch.cat(hits).sum().item() / seen
        '''),
    )),
    Variant("mc_dropout_std_from_var_and_a_python_loop", (Rewrite(TP, "mc_dropout_predict", '''
        def mc_dropout_predict(model, x, n_samples):
            was_training = model.training
            model.train()
            samples = []
            with torch.no_grad():
                for _ in range(n_samples):
                    samples.append(torch.nn.functional.softmax(model(x), dim=-1))
            model.train(was_training)
            probs = torch.stack(samples, dim=-1)  # (N, C, T)
            return probs.mean(dim=-1), probs.var(dim=-1, unbiased=False).sqrt()
    '''),)),
    Variant("float32_means_and_a_notebook_saved_with_bom_and_crlf", (
        Rewrite(TP, "train_epoch", '''
            def train_epoch(model, loader, optimizer, loss_fn, device):
                model.train()
                losses = []
                for x, y in loader:
                    optimizer.zero_grad()
                    loss = loss_fn(model(x.to(device)), y.to(device))
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.item())
                return torch.tensor(losses).mean().item()  # a float32 tensor: torch's default dtype
        '''),
        Rewrite(TP, "evaluate", '''
            def evaluate(model, loader, device):
                model.eval()
                predictions, labels = [], []
                with torch.no_grad():
                    for x, y in loader:
                        predictions.append(model(x.to(device)).argmax(dim=1))
                        labels.append(y.to(device))
                return (torch.cat(predictions) == torch.cat(labels)).float().mean().item()
        '''),
        SavedAs(TP, "utf-8-sig", "\r\n"),
    )),
    Variant("mc-dropout-std-from-the-second-moment-clamped", (Rewrite(TP, "mc_dropout_predict", '''
        def mc_dropout_predict(model, x, n_samples):
            was_training = model.training
            model.train()
            with torch.no_grad():
                probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)])
            model.train(was_training)
            mean = probs.mean(dim=0)
            var = (probs**2).mean(dim=0) - mean**2  # E[p^2] - E[p]^2
            return mean, var.clamp(min=0).sqrt()
    '''),)),
    Variant("mc-dropout-passes-in-a-preallocated-float32-buffer", (Rewrite(TP, "mc_dropout_predict", '''
        def mc_dropout_predict(model, x, n_samples):
            was_training = model.training
            model.train()
            with torch.no_grad():
                first = torch.softmax(model(x), dim=1)
                preds = torch.zeros((n_samples, *first.shape), device=x.device)  # torch's default dtype: float32
                preds[0] = first
                for t in range(1, n_samples):
                    preds[t] = torch.softmax(model(x), dim=1)
            model.train(was_training)
            return preds.mean(dim=0), preds.std(dim=0, unbiased=False)
    '''),)),  # six digits of the probabilities, as the course's accuracy rule allows
    Variant("mc-dropout-returns-a-named-tuple", (
        Edit(TP, "import torch\n", "from typing import NamedTuple\n\nimport torch\n\n\nclass MCPrediction(NamedTuple):\n    mean: torch.Tensor\n    std: torch.Tensor\n"),
        Edit(TP, "return mean.to(x.device), std.to(x.device)", "return MCPrediction(mean.to(x.device), std.to(x.device))"),
    )),
]


# ---------------------------------------------------------------- the instructor's notebook
