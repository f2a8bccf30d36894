"""Every optimizer option combination and every scheduler against PyTorch: same inputs, same numbers."""

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402

import optim  # noqa: E402
from tests.optim.cases import PARAMS, gradient_sequence, groups, initial_values, make_params, run  # noqa: E402

STEPS = 20


def _torch_run(name: str, options: dict, dtype, grads: list):
    params = [torch.tensor(v, requires_grad=True) for v in initial_values(dtype)]
    opt = getattr(torch.optim, name)(groups(params), foreach=False, **options)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
    return params, opt


@pytest.mark.parametrize("name, options", PARAMS)
def test_parameters_and_state_match_torch_over_20_steps(name, options):
    grads = gradient_sequence(STEPS)
    params = make_params()
    opt = getattr(optim, name)(groups(params), **options)
    run(opt, params, grads)
    expected, torch_opt = _torch_run(name, options, np.float64, grads)
    for p, q in zip(params, expected, strict=True):
        np.testing.assert_allclose(p.value, q.detach().numpy(), rtol=1e-10, atol=1e-13)
    ours, theirs = opt.state_dict(), torch_opt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for index, buffers in theirs["state"].items():
        assert ours["state"][index].keys() == buffers.keys()
        for key, value in buffers.items():
            np.testing.assert_allclose(ours["state"][index][key], value.numpy(), rtol=1e-10, atol=1e-13)
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]


@pytest.mark.parametrize("name, options", PARAMS[::4])
def test_float32_parameters_match_torch_float32(name, options):
    grads = gradient_sequence(STEPS, np.float32)
    params = make_params(np.float32)
    opt = getattr(optim, name)(groups(params), **options)
    run(opt, params, grads)
    expected, _ = _torch_run(name, options, np.float32, grads)
    for p, q in zip(params, expected, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.value, q.detach().numpy(), rtol=1e-5, atol=1e-6)


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("LinearLR", dict(start_factor=0.1, total_iters=6)),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.2, total_iters=4)),
]
PLATEAUS = [
    dict(patience=3),
    dict(mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs"),
    dict(factor=0.5, patience=0, cooldown=2, min_lr=[0.01, 0.0]),
    dict(mode="max", factor=0.2, patience=2, threshold=0.05, min_lr=0.005),
]
EPOCHS = 30


def _lr_sequence(module, optimizer_params: list, schedules: list, metrics=None) -> list:
    """The lrs after construction and after each epoch, for schedulers stepping together on one optimizer."""
    opt = module.SGD([{"params": optimizer_params[:1]}, {"params": optimizer_params[1:], "lr": 0.02}], lr=0.1)
    schedulers = [
        getattr(module.lr_scheduler if module is torch.optim else module, name)(opt, **kw) for name, kw in schedules
    ]
    lrs = [schedulers[-1].get_last_lr()]
    for epoch in range(EPOCHS):
        opt.step()
        for s in schedulers:
            s.step() if metrics is None else s.step(metrics[epoch])
        lrs.append(schedulers[-1].get_last_lr())
    return lrs


def _both(schedules: list, metrics=None):
    ours = _lr_sequence(optim, make_params()[:2], schedules, metrics)
    theirs = _lr_sequence(
        torch.optim, [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)], schedules, metrics
    )
    return np.array(ours), np.array(theirs)


@pytest.mark.parametrize("name, options", SCHEDULERS, ids=[f"{n}-{o}" for n, o in SCHEDULERS])
def test_scheduler_lrs_match_torch_over_30_epochs(name, options):
    ours, theirs = _both([(name, options)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_warmup_then_cosine_chain_like_torch():
    ours, theirs = _both([("LinearLR", dict(start_factor=0.2, total_iters=5)), ("CosineAnnealingLR", dict(T_max=12))])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("options", PLATEAUS, ids=str)
def test_reduce_on_plateau_matches_torch(options):
    metrics = np.round(np.random.default_rng(3).uniform(0.0, 1.0, EPOCHS), 1).tolist()
    ours, theirs = _both([("ReduceLROnPlateau", options)], metrics)
    assert len(np.unique(theirs[:, 0])) > 2, "the metric sequence should trigger several reductions"
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


ONE_CYCLES = [
    ("SGD", dict(momentum=0.9), dict(max_lr=[0.5, 0.2], total_steps=EPOCHS)),
    (
        "SGD",
        dict(),
        dict(
            max_lr=0.3,
            epochs=3,
            steps_per_epoch=10,
            pct_start=0.25,
            anneal_strategy="linear",
            cycle_momentum=False,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
    ),
    (
        "Adam",
        dict(),
        dict(max_lr=0.01, total_steps=EPOCHS, three_phase=True, base_momentum=0.8, max_momentum=[0.9, 0.95]),
    ),
    ("Adam", dict(), dict(max_lr=0.006, total_steps=EPOCHS, pct_start=0.2)),
]


def _one_cycle_sequence(module, optimizer_params: list, name: str, optimizer_options: dict, options: dict) -> list:
    """The lr and momentum (or beta1) of both groups after construction and after each of the EPOCHS steps."""
    opt = getattr(module, name)(
        [{"params": optimizer_params[:1]}, {"params": optimizer_params[1:], "lr": 0.02}], lr=0.1, **optimizer_options
    )
    scheduler = (module.lr_scheduler if module is torch.optim else module).OneCycleLR(opt, **options)
    key = "betas" if name == "Adam" else "momentum"
    sequence = []
    for step in range(EPOCHS + 1):
        if step:
            opt.step()
            scheduler.step()
        sequence.append([*scheduler.get_last_lr(), *(np.ravel(g[key])[0] for g in opt.param_groups)])
    return sequence


@pytest.mark.parametrize("name, optimizer_options, options", ONE_CYCLES, ids=[str(o) for *_, o in ONE_CYCLES])
def test_one_cycle_lrs_and_momenta_match_torch(name, optimizer_options, options):
    ours = _one_cycle_sequence(optim, make_params()[:2], name, optimizer_options, options)
    theirs = _one_cycle_sequence(
        torch.optim,
        [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)],
        name,
        optimizer_options,
        options,
    )
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-15)


def _warmup(epoch: int) -> float:
    return min(1.0, (epoch + 1) / 4)


LAMBDAS = [
    dict(lr_lambda=_warmup),
    dict(lr_lambda=[lambda e: 0.9**e, lambda e: 1.0 / (1 + e)]),
]


@pytest.mark.parametrize("options", LAMBDAS, ids=["one", "per-group"])
def test_lambda_lr_matches_torch(options):
    ours, theirs = _both([("LambdaLR", options)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


# Each entry builds SequentialLR's schedulers from a scheduler module (optim or torch's) and an optimizer.
SEQUENCES = {
    "warmup-cosine": (
        lambda lib, o: [lib.LinearLR(o, start_factor=0.1, total_iters=5), lib.CosineAnnealingLR(o, T_max=20)],
        [5],
    ),
    "lambda-warmup-cosine-eta-min": (
        lambda lib, o: [lib.LambdaLR(o, _warmup), lib.CosineAnnealingLR(o, T_max=10, eta_min=0.001)],
        [4],
    ),
    "three-with-closed-forms": (
        lambda lib, o: [
            lib.ExponentialLR(o, gamma=0.8),
            lib.StepLR(o, step_size=3, gamma=0.5),
            lib.MultiStepLR(o, milestones=[2, 4, 4], gamma=0.5),
        ],
        [4, 11],
    ),
    "nested-first": (
        lambda lib, o: [
            lib.SequentialLR(o, [lib.StepLR(o, 2, gamma=0.5), lib.ExponentialLR(o, gamma=0.9)], milestones=[3]),
            lib.CosineAnnealingLR(o, T_max=8),
        ],
        [7],
    ),
    "milestone-at-0": (lambda lib, o: [lib.ExponentialLR(o, gamma=0.5), lib.LinearLR(o, start_factor=0.5)], [0]),
}


def _sequential_lrs(lib, optimizer_module, optimizer_params: list, name: str) -> list:
    build, milestones = SEQUENCES[name]
    opt = optimizer_module.SGD([{"params": optimizer_params[:1]}, {"params": optimizer_params[1:], "lr": 0.02}], lr=0.1)
    scheduler = lib.SequentialLR(opt, build(lib, opt), milestones=milestones)
    lrs = [scheduler.get_last_lr()]
    for _ in range(EPOCHS):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr() + [g["lr"] for g in opt.param_groups])
    return lrs


@pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")  # torch's, for a nested one
@pytest.mark.parametrize("name", SEQUENCES)
def test_sequential_lr_matches_torch(name):
    ours = _sequential_lrs(optim, optim, make_params()[:2], name)
    theirs = _sequential_lrs(
        torch.optim.lr_scheduler,
        torch.optim,
        [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)],
        name,
    )
    np.testing.assert_allclose(np.array(ours[1:]), np.array(theirs[1:]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)
