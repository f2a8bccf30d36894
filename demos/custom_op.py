"""Adding your own op in three steps: write it, prove its gradient with `autograd.gradcheck`, use it in a model.

The op is Softplus, y = log(1 + exp(x)), a smooth ReLU. Its derivative is the sigmoid, which can be
written in the output alone: dy/dx = 1 - exp(-y). So, as the house style asks, forward saves only y.
A copy with a wrong backward shows that gradcheck catches the mistake and names where. Then a small
net with the new op learns three spirals.

    python -m demos.custom_op            # about 5 s
    python -m demos.custom_op --quick    # a second or two

Writes runs/custom_op/: curves.png (loss and accuracy), boundary.png (the spirals and the learned
regions) and metrics.json.
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from autograd import Op
from demos.common import finish, fit, parse_args, plot, run_folder
from nn import datasets

FULL = dict(points_per_class=200, hidden=64, epochs=150, batch_size=50, lr=0.01)
QUICK = dict(points_per_class=50, hidden=16, epochs=30, batch_size=50, lr=0.03)


# Step 1: the op. Defining the subclass registers it; forward and backward work on plain ndarrays.
class Softplus(Op):
    """y = log(1 + exp(x));  dx = g * (1 - exp(-y)), i.e. g * sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        # log1p(exp(-|x|)) + max(x, 0) is the same function, and exp never overflows.
        y = np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * -np.expm1(-y),)  # 1 - exp(-y) without cancellation for small y


def softplus(x):
    return Softplus.apply(x)


# The same op with a typical slip, the derivative of the wrong function (tanh's). A leading underscore
# keeps it out of the op registry, which is for real ops only.
class _SoftplusWithABug(Softplus):
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * (1 - y * y),)


# Step 3: a layer around the op, so it fits in nn.Sequential like nn.ReLU.
class SoftplusLayer(nn.Module):
    def forward(self, x):
        return softplus(x)


def check_gradients(seed: int) -> dict:
    """Step 2: gradcheck in float64, on values across both sides of 0 and into the flat tail."""
    autograd.manual_seed(seed)
    x = autograd.tensor(np.random.default_rng(seed).uniform(-6, 6, (4, 5)), requires_grad=True)
    passed = autograd.gradcheck(softplus, [x])
    try:
        autograd.gradcheck(_SoftplusWithABug.apply, [x])
        caught = None
    except autograd.GradcheckError as error:
        caught = str(error)
    print(f"gradcheck of Softplus: {'passed' if passed else 'failed'}")
    print(f"gradcheck of the buggy copy: {'caught it: ' + caught if caught else 'missed it'}")
    return {"gradcheck_passed": passed, "bug_caught": caught is not None, "bug_message": caught}


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("custom_op", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    checks = check_gradients(args.seed)

    X, y = datasets.make_spirals(config["points_per_class"], classes=3, noise=0.2, seed=args.seed)
    data = datasets.train_val_split(X, y, 0.2, seed=args.seed)
    autograd.manual_seed(args.seed)
    h = config["hidden"]
    model = nn.Sequential(nn.Linear(2, h), SoftplusLayer(), nn.Linear(h, h), SoftplusLayer(), nn.Linear(h, 3))
    solver = fit(
        model, data, optim.Adam(model.parameters(), lr=config["lr"]), config["epochs"], config["batch_size"], args.seed
    )
    model.eval()
    print(
        f"a net with the new op on three spirals: validation accuracy {solver.best_val_acc:.1%}, "
        f"loss {solver.loss_history[0]:.3f} -> {solver.loss_history[-1]:.3f}"
    )
    history = (solver.loss_history, solver.train_acc_history, solver.val_acc_history)
    files = {
        "curves": plot("curves", autograd.viz.plot_history, *history, path=out / "curves.png", first_epoch=0),
        "boundary": plot("decision boundary", autograd.viz.plot_decision_boundary, model, X, y, out / "boundary.png"),
    }
    metrics = {
        **checks,
        "softplus_registered": autograd.OP_REGISTRY.get("Softplus") is Softplus,
        "val_accuracy": solver.best_val_acc,
        "final_train_accuracy": solver.train_acc_history[-1],
        "first_loss": solver.loss_history[0],
        "final_loss": solver.loss_history[-1],
    }
    settings = {
        "data": f"make_spirals({config['points_per_class']}, classes=3)",
        "model": f"2-{h}-{h}-3 MLP with Softplus",
        "optimizer": "Adam",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
