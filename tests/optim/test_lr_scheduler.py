"""Learning-rate schedulers without PyTorch: their sequences from closed formulas, checks and state_dict."""

import math

import numpy as np
import pytest

import autograd as ag
import optim


def _sgd(lr: float = 1.0, groups: int = 1):
    params = [ag.tensor(np.zeros(1), requires_grad=True) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr)


def _sequence(scheduler, epochs: int, metrics=None) -> list:
    lrs = [scheduler.get_last_lr()[0]]
    for epoch in range(epochs):
        scheduler.step() if metrics is None else scheduler.step(metrics[epoch])
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


def test_step_lr_decays_every_step_size_epochs_and_records_initial_lr():
    opt = _sgd(0.5, groups=2)
    scheduler = optim.StepLR(opt, step_size=2, gamma=0.1)
    assert scheduler.base_lrs == [0.5, 1.0] and opt.param_groups[1]["initial_lr"] == 1.0
    np.testing.assert_allclose(_sequence(scheduler, 5), [0.5 * 0.1 ** (t // 2) for t in range(6)])
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.5e-2, 1e-2])


def test_multistep_lr_counts_repeated_milestones():
    lrs = _sequence(optim.MultiStepLR(_sgd(), milestones=[4, 2, 4], gamma=0.5), 5)
    np.testing.assert_allclose(lrs, [1, 1, 0.5, 0.5, 0.125, 0.125])


def test_exponential_lr_is_the_course_lr_decay():
    np.testing.assert_allclose(_sequence(optim.ExponentialLR(_sgd(), gamma=0.95), 10), 0.95 ** np.arange(11))


def test_cosine_annealing_follows_the_closed_formula_through_two_periods():
    T, low = 6, 0.1
    expected = [low + (1 - low) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(2 * T + 3)]
    np.testing.assert_allclose(_sequence(optim.CosineAnnealingLR(_sgd(), T_max=T, eta_min=low), 2 * T + 2), expected)


def test_linear_lr_warms_up_then_holds():
    lrs = _sequence(optim.LinearLR(_sgd(2.0), start_factor=0.25, end_factor=0.75, total_iters=4), 6)
    np.testing.assert_allclose(lrs, [0.5, 0.75, 1.0, 1.25, 1.5, 1.5, 1.5])


def test_plateau_waits_for_patience_then_cools_down_and_stops_at_min_lr():
    scheduler = optim.ReduceLROnPlateau(_sgd(), factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3]
    # 2 bad epochs > patience halve the lr; the cooldown epoch after a cut does not count, so the next
    # cut comes 3 epochs later; the third cut stops at min_lr and a fourth would change nothing.
    assert _sequence(scheduler, len(metrics), metrics) == [
        1,
        1,
        1,
        1,
        0.5,
        0.5,
        0.5,
        0.25,
        0.25,
        0.25,
        0.25,
        0.2,
        0.2,
        0.2,
    ]


def test_plateau_in_max_mode_with_an_absolute_threshold():
    scheduler = optim.ReduceLROnPlateau(
        _sgd(), mode="max", factor=0.1, patience=0, threshold=0.05, threshold_mode="abs"
    )
    # 0.52 is not better than 0.5 by more than 0.05: a bad epoch, and patience 0 reduces at once.
    assert _sequence(scheduler, 3, [0.5, 0.52, 0.6]) == [1, 1, 0.1, 0.1]


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda o: optim.StepLR(o, step_size=0), "step_size"),
        (lambda o: optim.MultiStepLR(o, milestones=[2, -1]), "milestone"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: optim.LinearLR(o, start_factor=0.0), "start_factor"),
        (lambda o: optim.LinearLR(o, end_factor=1.5), "end_factor"),
        (lambda o: optim.LinearLR(o, total_iters=2.5), "total_iters"),
        (lambda o: optim.ReduceLROnPlateau(o, mode="maximum"), "mode"),
        (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="relative"), "threshold_mode"),
        (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), "factor"),
        (lambda o: optim.ReduceLROnPlateau(o, patience=-1), "patience"),
        (lambda o: optim.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), "min_lr"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0), "total_steps, or epochs and steps_per_epoch"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=0), "steps_per_epoch"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5), "pct_start"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
        (lambda o: optim.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10), "max_lr"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(make, name):
    with pytest.raises(ValueError, match=name):
        make(_sgd())


def test_one_cycle_rises_then_anneals_with_beta1_moving_the_other_way_and_stops_at_total_steps():
    w = ag.tensor(np.zeros(1), requires_grad=True)
    adam = optim.Adam([w], lr=0.5)
    scheduler = optim.OneCycleLR(adam, max_lr=0.01, total_steps=10, pct_start=0.3)
    lrs, beta1s = [scheduler.get_last_lr()[0]], [adam.param_groups[0]["betas"][0]]
    for _ in range(10):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        beta1s.append(adam.param_groups[0]["betas"][0])
    # Up over steps 0..2 (0.3 * 10 - 1 = 2), then a half cosine down to max_lr / 25 / 1e4 at step 9.
    assert lrs[0] == pytest.approx(0.01 / 25) and lrs[2] == pytest.approx(0.01) and lrs[9] == pytest.approx(4e-8)
    assert all(a < b for a, b in zip(lrs[:2], lrs[1:3])) and all(a > b for a, b in zip(lrs[2:9], lrs[3:10]))
    assert beta1s[0] == pytest.approx(0.95) and beta1s[2] == pytest.approx(0.85) and beta1s[9] == pytest.approx(0.95)
    assert adam.param_groups[0]["betas"][1] == 0.999
    with pytest.raises(ValueError, match="past the schedule's total_steps=10"):
        scheduler.step()


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    adagrad = optim.Adagrad([ag.tensor(np.zeros(1), requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or betas, got Adagrad"):
        optim.OneCycleLR(adagrad, max_lr=1.0, total_steps=10)
    optim.OneCycleLR(adagrad, max_lr=1.0, total_steps=10, cycle_momentum=False)


@pytest.mark.parametrize("scheduler_class", [optim.ExponentialLR, optim.ReduceLROnPlateau])
def test_a_scheduler_needs_an_optimizer(scheduler_class):
    with pytest.raises(TypeError, match="optimizer must be an optim.Optimizer, got list"):
        scheduler_class([ag.tensor([1.0], requires_grad=True)], 0.5)


SCHEDULES = [
    lambda o: optim.StepLR(o, step_size=3, gamma=0.5),
    lambda o: optim.MultiStepLR(o, milestones=[2, 6], gamma=0.5),
    lambda o: optim.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
    lambda o: optim.LinearLR(o, start_factor=0.1, total_iters=8),
    lambda o: optim.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=1),
    lambda o: optim.OneCycleLR(o, max_lr=2.0, total_steps=12, three_phase=True),
    lambda o: optim.LambdaLR(o, lambda epoch: 0.8**epoch),
    lambda o: optim.SequentialLR(
        o, [optim.LinearLR(o, start_factor=0.2, total_iters=3), optim.CosineAnnealingLR(o, T_max=6)], milestones=[3]
    ),
    lambda o: optim.SequentialLR(
        o,
        [optim.SequentialLR(o, [optim.StepLR(o, 2), optim.ExponentialLR(o, 0.9)], [2]), optim.ExponentialLR(o, 0.5)],
        milestones=[6],
    ),
]


@pytest.mark.parametrize("make", SCHEDULES)
def test_state_dict_resumes_the_same_sequence(make):
    metrics = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    uses_metric = make(_sgd()).needs_metric
    straight = _sequence(make(_sgd()), 12, metrics if uses_metric else None)
    first_opt = _sgd()
    first = make(first_opt)
    head = _sequence(first, 5, metrics[:5] if uses_metric else None)
    # As in PyTorch, build the scheduler first, then load the optimizer's state and the scheduler's.
    second_opt = _sgd()
    second = make(second_opt)
    second_opt.load_state_dict(first_opt.state_dict())
    second.load_state_dict({k: np.asarray(v) for k, v in first.state_dict().items()})  # as if read from disk
    tail = _sequence(second, 7, metrics[5:] if uses_metric else None)
    np.testing.assert_array_equal(head + tail[1:], straight)


def test_load_state_dict_refuses_another_schedulers_state():
    step = optim.StepLR(_sgd(), step_size=2)
    step.step()
    cosine = optim.CosineAnnealingLR(_sgd(), T_max=5)
    before = cosine.state_dict()
    with pytest.raises(ValueError, match=r"^CosineAnnealingLR.load_state_dict: the attributes .*'T_max'.* expected"):
        cosine.load_state_dict(step.state_dict())
    assert cosine.state_dict() == before


class Warmup:
    """A callable object: LambdaLR saves its attributes, as PyTorch does."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.epochs)


def test_lambda_lr_saves_callable_objects_attributes_but_not_functions(tmp_path):
    import nn

    opt = _sgd(groups=2)
    scheduler = optim.LambdaLR(opt, [Warmup(5), lambda epoch: 0.5])
    scheduler.step()
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 5}, None] and state["last_epoch"] == 1
    nn.save(state, tmp_path / "scheduler.npz")
    other = optim.LambdaLR(_sgd(groups=2), [Warmup(2), lambda epoch: 0.5])
    other.load_state_dict(nn.load(tmp_path / "scheduler.npz"))
    assert other.lr_lambdas[0].epochs == 5 and other.last_epoch == 1
    other.step()
    assert other.get_last_lr() == pytest.approx([3 / 5, 1.0])


def test_sequential_lr_state_goes_through_a_checkpoint_file(tmp_path):
    import nn

    def make(o):
        warmup = optim.LambdaLR(o, Warmup(3))
        return optim.SequentialLR(o, [warmup, optim.CosineAnnealingLR(o, T_max=5)], milestones=[3])

    straight = _sequence(make(_sgd()), 9)
    first = make(_sgd())
    head = _sequence(first, 4)
    nn.save({"optimizer": first.optimizer.state_dict(), "scheduler": first.state_dict()}, tmp_path / "run.npz")
    second = make(_sgd())
    saved = nn.load(tmp_path / "run.npz")
    second.optimizer.load_state_dict(saved["optimizer"])
    second.load_state_dict(saved["scheduler"])
    np.testing.assert_allclose(head + _sequence(second, 5)[1:], straight, rtol=1e-15)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: optim.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
        (lambda o: optim.SequentialLR(o, [optim.StepLR(o, 2)], milestones=[1]), ValueError, "one milestone fewer"),
        (lambda o: optim.SequentialLR(o, [optim.StepLR(_sgd(), 2)], []), ValueError, "belong to the optimizer"),
        (lambda o: optim.SequentialLR(o, [optim.ReduceLROnPlateau(o)], []), TypeError, "got ReduceLROnPlateau"),
        (lambda o: optim.LambdaLR(o, [lambda e: 1.0] * 2), ValueError, "lr_lambda must be a number or a list of 1"),
        (lambda o: optim.LambdaLR(o, 0.5), TypeError, "lr_lambda must be callable"),
    ],
)
def test_lambda_and_sequential_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make(_sgd())
