"""Binary classification of two MNIST digits (3 against 5, the pair a linear model confuses most): the course
work's logistic and SVM (hinge) classifiers, linear and with one hidden layer, reached 92.8-94 %. Here all four:

    logistic  one logit per image, nn.functional.binary_cross_entropy_with_logits
    hinge     two scores per image, nn.functional.multi_margin_loss (for two classes: the SVM hinge,
              max(0, 1 - (s_true - s_other)), halved)

each as a linear model and as a 2-layer net (100 hidden ReLU units), trained with Adam.

    python -m demos.binary --data-dir path/to/mnist   # ~5 s on 2 idle cores
    python -m demos.binary --digits 4 9                              # another pair
    python -m demos.binary --quick                                   # a few seconds on a subset

The loop is written out (not optim.Solver, which scores by argmax over class scores: a single logit needs
a threshold at 0 instead). Written to runs/binary/: curves_<loss>_<model>.png, weights.png (the linear
models' weights as 28x28 templates: where ink votes for the second digit), report.html, metrics.json.
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import plot
from demos.mnist_common import curves, finish, load_mnist_split, parse_args

FULL = dict(hidden=100, epochs=10, batch_size=64, lr=1e-3, weight_decay=1e-4, train=None, test=None)
QUICK = dict(hidden=16, epochs=2, batch_size=32, lr=3e-3, weight_decay=1e-4, train=3000, test=600)


def logistic_loss(scores, y):
    # One logit per image; the target is the probability of the second digit, with the logit's shape.
    return nn.functional.binary_cross_entropy_with_logits(scores, y[:, None].astype(np.float32))


def logistic_predict(scores: np.ndarray) -> np.ndarray:
    return (scores[:, 0] > 0).astype(np.int64)


def hinge_predict(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=1)


# loss name -> (outputs per image, loss function, prediction from the scores)
LOSSES = {
    "logistic": (1, logistic_loss, logistic_predict),
    "hinge": (2, nn.functional.multi_margin_loss, hinge_predict),
}


def make_model(kind: str, outputs: int, hidden: int) -> nn.Module:
    if kind == "linear":
        return nn.Sequential(nn.Linear(28 * 28, outputs))
    return nn.Sequential(nn.Linear(28 * 28, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


class History:
    """What the loop records, named as optim.Solver names it, so demos.mnist_common.curves can draw it."""

    def __init__(self):
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []


def accuracy(model: nn.Module, predict, X: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with autograd.no_grad():
        scores = model(X).value
    model.train()
    return float(np.mean(predict(scores) == y))


def train(model: nn.Module, loss_name: str, data: dict, config: dict, seed: int) -> tuple:
    """Minibatch Adam on `loss_name`; keeps the parameters of the best validation epoch.

    Returns:
        (History, best validation accuracy); the model holds the best parameters.
    """
    _, loss_fn, predict = LOSSES[loss_name]
    optimizer = optim.Adam(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    rng = np.random.default_rng(seed)
    history, best, best_state = History(), -1.0, None
    for _ in range(config["epochs"]):
        for X, y in nn.data.batches(data["X_train"], data["y_train"], config["batch_size"], seed=rng):
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.loss_history.append(loss.item())
        history.train_acc_history.append(accuracy(model, predict, data["X_train"][:2000], data["y_train"][:2000]))
        history.val_acc_history.append(accuracy(model, predict, data["X_val"], data["y_val"]))
        if history.val_acc_history[-1] > best:
            best, best_state = history.val_acc_history[-1], model.state_dict()
    model.load_state_dict(best_state)
    return history, best


def two_digits(data: dict, digits: tuple[int, int]) -> dict:
    """Only the images of the two digits, labelled 0 (first digit) and 1 (second)."""
    pair = {}
    for split in ("train", "val", "test"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        keep = np.isin(y, digits)
        pair[f"X_{split}"], pair[f"y_{split}"] = X[keep], (y[keep] == digits[1]).astype(np.int64)
    return pair


def main(argv=None) -> int:
    started = time.perf_counter()
    digits_option = (("--digits",), dict(type=int, nargs=2, default=(3, 5), help="the two digits (default: 3 5)"))
    args = parse_args("binary", __doc__, argv, [digits_option])
    config = QUICK if args.quick else FULL
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    digits = tuple(args.digits)
    data = two_digits(load_mnist_split(args, flatten=True, train=config["train"], test=config["test"]), digits)
    sizes = ", ".join(f"{len(data[f'y_{s}'])} {s}" for s in ("train", "val", "test"))
    print(f"MNIST {digits[0]} against {digits[1]}: {sizes} images")

    metrics, figures, templates = {}, {}, []
    for loss_name, (outputs, _, predict) in LOSSES.items():
        for kind in ("linear", "two_layer"):
            autograd.manual_seed(args.seed)  # the same initial draws for every run
            model = make_model(kind, outputs, config["hidden"])
            run_started = time.perf_counter()
            history, best_val = train(model, loss_name, data, config, args.seed)
            name = f"{loss_name}_{kind}"
            metrics[f"{name}_test_accuracy"] = accuracy(model, predict, data["X_test"], data["y_test"])
            metrics[f"{name}_best_val_accuracy"] = best_val
            metrics[f"{name}_train_time_s"] = round(time.perf_counter() - run_started, 2)
            print(f"{name:>18}: test accuracy {metrics[f'{name}_test_accuracy']:.2%}")
            figures[f"{name}: loss per step, accuracy per epoch"] = curves(history, out / f"curves_{name}.png")
            if kind == "linear":
                weight = model[0].weight.value
                # The hinge model's decision is the sign of s_1 - s_0: its template is the difference of rows.
                templates.append(weight[0] if outputs == 1 else weight[1] - weight[0])
    figures["linear models' templates (logistic, hinge): weight per pixel toward the second digit"] = plot(
        "weight picture", autograd.viz.image_grid, np.stack(templates).reshape(-1, 28, 28), out / "weights.png"
    )
    settings = {
        "data": f"MNIST digits {digits[0]} (label 0) and {digits[1]} (label 1), standardized rows",
        "models": "linear; Linear(784, hidden), ReLU, Linear(hidden, outputs)",
        "optimizer": "Adam",
        **{k: v for k, v in config.items() if v is not None},
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, f"nodegrad: {digits[0]} against {digits[1]}", settings, metrics, figures, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
