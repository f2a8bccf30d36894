"""PyTorch code runs as written: real PyTorch scripts, renamed mechanically, give PyTorch's numbers.

Each script below is PyTorch code as its source wrote it (the PyTorch examples' MNIST `Net` with its
train and test loops, d2l's LeNet, the custom-Function tutorial), trimmed to what a test can run in
seconds: the data are small random tensors handed in as lists of batches (the data pipeline is the one
part allowed to differ), and the weights nodegrad starts from are copied from PyTorch's. `to_nodegrad`
applies the README's renaming rule to the text, nothing else:

    import torch -> import autograd as ag, nn, optim;  from torch import nn -> import nn;
    torch.nn.functional -> nn.functional;  torch.nn -> nn;  torch.optim -> optim;  torch. -> ag.

Both versions run in float64; losses, predictions, gradients and final weights must agree.
"""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="these scripts compare with PyTorch: pip install torch==2.13.0")

RENAMES = [
    (r"^import torch$", "import autograd as ag, nn, optim"),  # torch.nn and torch.optim come with torch
    (r"^from torch import (nn|optim)$", r"import \1"),
    (r"\btorch\.nn\.functional\b", "nn.functional"),
    (r"\btorch\.nn\b", "nn"),
    (r"\btorch\.optim\b", "optim"),
    (r"\btorch\.", "ag."),
]


def to_nodegrad(source: str) -> str:
    for pattern, replacement in RENAMES:
        source = re.sub(pattern, replacement, source, flags=re.MULTILINE)
    assert "torch" not in source, "the renaming rule left a torch name behind"
    return source


def run(source: str, framework: str) -> dict:
    namespace = {"__name__": f"script_{framework}"}
    exec(compile(source if framework == "torch" else to_nodegrad(source), f"<{framework} script>", "exec"), namespace)
    return namespace


def batches(framework: str, images: np.ndarray, labels: np.ndarray, size: int) -> list:
    """The data as a list of (data, target) batches of the framework's tensors."""
    make = torch.from_numpy if framework == "torch" else __import__("autograd").tensor
    return [(make(images[i : i + size]), make(labels[i : i + size])) for i in range(0, len(images), size)]


def as_numpy(value):
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value.value if hasattr(value, "value") else value)


# From pytorch/examples, mnist/main.py (Net, train, test; the optimizer and scheduler of main()).
MNIST = """
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(DROPOUT[0])
        self.dropout2 = nn.Dropout(DROPOUT[1])
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch, losses):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= sum(len(target) for _, target in test_loader)
    return test_loss, correct


def main(train_loader, test_loader, initial_state=None, epochs=2):
    torch.manual_seed(1)
    device = torch.device("cpu")
    model = Net().to(device).double()
    if initial_state is not None:
        model.load_state_dict(initial_state)
    initial = copy.deepcopy(model.state_dict())
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    losses, scores = [], []
    for epoch in range(1, epochs + 1):
        train(model, device, train_loader, optimizer, epoch, losses)
        scores.append(test(model, device, test_loader))
        scheduler.step()
    return dict(initial=initial, model=model, losses=losses, scores=scores)
"""


def _mnist_data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    images = ((rng.random((n, 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float64)
    return images, rng.integers(0, 10, n)


def _run_mnist(framework, dropout, initial_state=None):
    script = run(MNIST.replace("DROPOUT[0]", str(dropout[0])).replace("DROPOUT[1]", str(dropout[1])), framework)
    images, labels = _mnist_data()
    train_loader = batches(framework, images[:16], labels[:16], 8)
    test_loader = batches(framework, images[16:], labels[16:], 4)
    return script["main"](train_loader, test_loader, initial_state)


def test_pytorch_examples_mnist_trains_to_the_same_numbers():
    theirs = _run_mnist("torch", (0.0, 0.0))  # dropout off: the two frameworks draw different masks
    start = {k: v.numpy() for k, v in theirs["initial"].items()}
    ours = _run_mnist("nodegrad", (0.0, 0.0), initial_state=start)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-10)
    for (our_loss, our_correct), (their_loss, their_correct) in zip(ours["scores"], theirs["scores"]):
        assert our_correct == their_correct and isinstance(our_correct, int)
        np.testing.assert_allclose(our_loss, their_loss, rtol=1e-10)
    their_params = dict(theirs["model"].named_parameters())
    for name, param in ours["model"].named_parameters():
        assert param.dtype == np.float64
        np.testing.assert_allclose(as_numpy(param), as_numpy(their_params[name]), rtol=1e-8, atol=1e-12)


def test_pytorch_examples_mnist_runs_with_its_dropout():
    ours = _run_mnist("nodegrad", (0.25, 0.5))
    assert len(ours["losses"]) == 4 and all(np.isfinite(ours["losses"]))
    assert all(0 <= correct <= 8 for _, correct in ours["scores"])


# From d2l.ai, chapter "Convolutional Neural Networks (LeNet)" (the PyTorch tab): the net, its layer-by-
# layer shapes, the Xavier initialization applied with `net.apply`, and the training step of train_ch6.
LENET = """
import copy

import torch
from torch import nn

net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))


def layer_shapes():
    X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
    shapes = []
    for layer in net:
        X = layer(X)
        shapes.append((layer.__class__.__name__, tuple(X.shape)))
    return shapes


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def train_ch6(net, train_iter, num_epochs, lr, initial_state=None):
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    net.double()
    if initial_state is not None:
        net.load_state_dict(initial_state)
    initial = copy.deepcopy(net.state_dict())
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    history = []
    for epoch in range(num_epochs):
        net.train()
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                history.append((l.item() * X.shape[0], accuracy(y_hat, y), X.shape[0]))
    return initial, history
"""


def _run_lenet(framework, initial_state=None):
    script = run(LENET, framework)
    shapes = script["layer_shapes"]()  # before training, as d2l prints them (float32, like the net then)
    rng = np.random.default_rng(3)
    images, labels = rng.random((16, 1, 28, 28)), rng.integers(0, 10, 16)
    initial, history = script["train_ch6"](script["net"], batches(framework, images, labels, 8), 2, 0.9, initial_state)
    return script, shapes, initial, history


def test_d2l_lenet_prints_the_same_shapes_and_trains_to_the_same_numbers():
    theirs, their_shapes, initial, their_history = _run_lenet("torch")
    ours, our_shapes, _, our_history = _run_lenet("nodegrad", {k: v.numpy() for k, v in initial.items()})
    assert our_shapes == their_shapes == [
        ("Conv2d", (1, 6, 28, 28)), ("Sigmoid", (1, 6, 28, 28)), ("AvgPool2d", (1, 6, 14, 14)),
        ("Conv2d", (1, 16, 10, 10)), ("Sigmoid", (1, 16, 10, 10)), ("AvgPool2d", (1, 16, 5, 5)),
        ("Flatten", (1, 400)), ("Linear", (1, 120)), ("Sigmoid", (1, 120)), ("Linear", (1, 84)),
        ("Sigmoid", (1, 84)), ("Linear", (1, 10)),
    ]  # fmt: skip
    np.testing.assert_allclose(np.array(our_history), np.array(their_history), rtol=1e-10)
    for (name, ours_p), (_, theirs_p) in zip(ours["net"].named_parameters(), theirs["net"].named_parameters()):
        np.testing.assert_allclose(as_numpy(ours_p), as_numpy(theirs_p), rtol=1e-9, atol=1e-12, err_msg=name)


# From the PyTorch tutorial "Learning PyTorch with Examples", section "PyTorch: Defining new autograd
# Functions" (the steps shortened from 2000 to 300).
CUSTOM_FUNCTION = '''
import torch
import math


class LegendrePolynomial3(torch.autograd.Function):
    """
    We can implement our own custom autograd Functions by subclassing
    torch.autograd.Function and implementing the forward and backward passes
    which operate on Tensors.
    """

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def main(steps=300):
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [a, b, c, d]
'''


def test_custom_function_tutorial_fits_the_same_polynomial():
    their_losses, their_coefficients = run(CUSTOM_FUNCTION, "torch")["main"]()
    our_losses, our_coefficients = run(CUSTOM_FUNCTION, "nodegrad")["main"]()
    # float32, as the tutorial: the two frameworks sum 2,000 terms in different orders.
    np.testing.assert_allclose(our_losses, their_losses, rtol=2e-4)
    assert our_losses[-1] < our_losses[0] / 4
    for ours, theirs in zip(our_coefficients, their_coefficients):
        assert ours.requires_grad and ours.is_leaf and ours.dtype == np.float32
        np.testing.assert_allclose(as_numpy(ours), as_numpy(theirs), rtol=1e-3, atol=1e-6)
