"""Solver: overfitting a small set, histories, best parameters, modes, output, schedulers and exact resuming."""

import sys

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from autograd import random as engine_random


def _data(n_train: int = 50, n_val: int = 30, features: int = 8, classes: int = 3, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_train + n_val, features)).astype(np.float32)
    y = rng.integers(0, classes, n_train + n_val)
    return dict(X_train=X[:n_train], y_train=y[:n_train], X_val=X[n_train:], y_val=y[n_train:])


def _mlp(features: int = 8, hidden: int = 32, classes: int = 3, dropout: float = 0.0, seed: int = 0) -> nn.Module:
    ag.manual_seed(seed)
    layers = [nn.Linear(features, hidden), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(*layers, nn.Linear(hidden, classes))


def _solver(model=None, data=None, **options) -> optim.Solver:
    settings = dict(
        update_rule="adam", optim_config={"learning_rate": 1e-2}, num_epochs=3, batch_size=25, verbose=False, seed=0
    )
    model, data = _mlp() if model is None else model, _data() if data is None else data
    return optim.Solver(model, data, **{**settings, **options})


def test_overfits_50_examples_to_full_training_accuracy():
    # As in the course work: a net that can memorize 50 examples must reach 100% on them.
    solver = _solver(_mlp(features=20, hidden=100), _data(features=20), num_epochs=20)
    solver.train()
    assert solver.train_acc_history[-1] == 1.0


def test_history_lengths_follow_iterations_and_epochs():
    solver = _solver(data=_data(n_train=60), num_epochs=4, batch_size=25)  # 60 // 25 = 2 updates per epoch
    solver.train()
    assert (solver.epoch, solver.iteration, len(solver.loss_history)) == (4, 8, 8)
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4 + 1  # also after the first update


def test_the_best_validation_parameters_are_restored_at_the_end():
    solver = _solver(num_epochs=8)
    solver.train()
    assert solver.best_val_acc == max(solver.val_acc_history)
    assert solver.check_accuracy(solver.X_val, solver.y_val) == solver.best_val_acc
    current = solver.model.state_dict()
    assert all(np.array_equal(current[k], v) for k, v in solver.best_params.items())


def test_restore_best_false_leaves_the_last_parameters():
    solver = _solver(num_epochs=4, restore_best=False)
    last = {}
    solver.on_iteration.append(lambda s: last.update(s.model.state_dict()))
    solver.train()
    current = solver.model.state_dict()
    assert solver.best_params is not None
    assert all(np.array_equal(current[k], v) for k, v in last.items())


class _Probe(nn.Module):
    """Records the grad mode and training flag its forward sees."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(8, 3)
        self.seen = []

    def forward(self, x):
        self.seen.append((ag.is_grad_enabled(), self.training))
        return self.inner(x)


@pytest.mark.parametrize("training", [True, False])
def test_check_accuracy_runs_in_eval_mode_without_grad_and_restores_the_mode(training):
    probe = _Probe()
    solver = _solver(probe)
    probe.train(training)
    accuracy = solver.check_accuracy(solver.X_val, solver.y_val, batch_size=7)
    assert 0.0 <= accuracy <= 1.0
    assert probe.seen == [(False, False)] * 5  # 30 examples in batches of 7
    assert probe.training is training


def test_check_accuracy_scores_a_sample_of_the_requested_size():
    probe = _Probe()
    _solver(probe).check_accuracy(np.zeros((40, 8), np.float32), np.zeros(40, np.int64), num_samples=12, batch_size=5)
    assert len(probe.seen) == 3  # 12 samples in batches of 5


def test_verbose_false_prints_nothing(capsys):
    _solver().train()
    assert capsys.readouterr() == ("", "")


def test_without_tqdm_progress_is_printed_as_lines(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # makes `from tqdm.auto import tqdm` fail
    _solver(verbose=True, num_epochs=2, print_every=3).train()
    out = capsys.readouterr().out.splitlines()
    assert [line.split(")")[0] for line in out if line.startswith("(Iteration")] == [
        "(Iteration 1 / 4",
        "(Iteration 4 / 4",
    ]
    assert sum(line.startswith("(Epoch") for line in out) == 3


def test_with_tqdm_a_progress_bar_shows_the_loss(capsys):
    pytest.importorskip("tqdm")
    _solver(verbose=True, num_epochs=2).train()
    err = capsys.readouterr().err
    assert "loss=" in err and "4/4" in err


@pytest.mark.parametrize(
    "rule, optimizer_class",
    [
        ("sgd", optim.SGD),
        ("sgd_momentum", optim.SGD),
        ("rmsprop", optim.RMSprop),
        ("adagrad", optim.Adagrad),
        ("adam", optim.Adam),
        ("adamw", optim.AdamW),
    ],
)
def test_update_rules_build_their_optimizer(rule, optimizer_class):
    solver = _solver(update_rule=rule, optim_config=None)
    assert type(solver.optimizer) is optimizer_class
    assert [id(p) for p in solver.optimizer.param_groups[0]["params"]] == [id(p) for p in solver.model.parameters()]


def test_course_config_names_are_translated():
    group = _solver(update_rule="rmsprop", optim_config=dict(learning_rate=0.5, decay_rate=0.9, epsilon=1e-6))
    assert {k: group.optimizer.param_groups[0][k] for k in ("lr", "alpha", "eps")} == dict(lr=0.5, alpha=0.9, eps=1e-6)
    adam = _solver(update_rule="adam", optim_config=dict(beta1=0.8))
    assert adam.optimizer.param_groups[0]["betas"] == (0.8, 0.999)
    momentum = _solver(update_rule="sgd_momentum", optim_config=None)
    assert momentum.optimizer.param_groups[0]["momentum"] == 0.9


@pytest.mark.parametrize(
    "options, error, match",
    [
        (dict(update_rule="newton"), ValueError, "update_rule must be one of"),
        (dict(data={"X_train": np.zeros((2, 8))}), ValueError, "data must hold X_train, y_train, X_val, y_val"),
        (dict(num_epochs=0), ValueError, "num_epochs must be a positive int"),
        (dict(lr_decay=0.5, scheduler=lambda o: optim.StepLR(o, 1)), ValueError, "lr_decay or scheduler"),
        (dict(scheduler_interval="batch"), ValueError, "scheduler_interval must be 'epoch' or 'iteration'"),
        (
            dict(scheduler=lambda o: optim.ReduceLROnPlateau(o), scheduler_interval="iteration"),
            ValueError,
            "ReduceLROnPlateau needs an epoch's metric",
        ),
        (
            dict(optimizer="adam", update_rule=None, optim_config=None),
            TypeError,
            "optimizer must be an optim.Optimizer",
        ),
    ],
)
def test_invalid_arguments(options, error, match):
    with pytest.raises(error, match=match):
        _solver(**options)


def test_an_optimizer_excludes_update_rule():
    model = _mlp()
    with pytest.raises(ValueError, match="either optimizer or update_rule"):
        optim.Solver(model, _data(), optimizer=optim.SGD(model.parameters()), update_rule="adam")


def test_lr_decay_multiplies_the_learning_rate_once_per_epoch():
    solver = _solver(update_rule="sgd", optim_config={"learning_rate": 0.1}, lr_decay=0.5)
    solver.train()
    assert solver.optimizer.param_groups[0]["lr"] == 0.1 * 0.5**3


def test_a_scheduler_stepped_every_iteration_sets_each_updates_lr():
    # 50 // 25 = 2 updates per epoch, 3 epochs: a linear decay to zero over the 6 updates, as in a PyTorch loop
    # that calls scheduler.step() after every optimizer.step().
    seen = []
    solver = _solver(
        update_rule="sgd",
        optim_config={"learning_rate": 0.6},
        scheduler=lambda o: optim.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=6),
        scheduler_interval="iteration",
        on_iteration=[lambda s: seen.append(s.optimizer.param_groups[0]["lr"])],
    )
    solver.train()
    np.testing.assert_allclose(seen, [0.5, 0.4, 0.3, 0.2, 0.1, 0.0], atol=1e-12)  # the lr of the next update
    assert solver.scheduler.last_epoch == solver.iteration == 6


def test_a_plateau_scheduler_receives_each_epochs_validation_accuracy():
    solver = _solver(scheduler=lambda o: optim.ReduceLROnPlateau(o, mode="max"), num_epochs=4)
    solver.train()
    assert solver.scheduler.best == max(solver.val_acc_history[1:]) and solver.scheduler.last_epoch == 4


def test_callbacks_run_per_iteration_and_per_epoch_and_can_stop_training():
    seen = []
    solver = _solver(
        on_iteration=[lambda s: seen.append(("it", s.iteration))], on_epoch=[lambda s: seen.append(("epoch", s.epoch))]
    )
    solver.train()
    assert seen == [
        ("it", 1),
        ("epoch", 1),
        ("it", 2),
        ("it", 3),
        ("epoch", 2),
        ("it", 4),
        ("it", 5),
        ("epoch", 3),
        ("it", 6),
    ]

    def stop(s):
        s.stop_training = True

    stopped = _solver(on_epoch=[stop])
    stopped.train()
    assert stopped.epoch == 1


def _resumable_options(**extra) -> dict:
    # Dropout, subsampled accuracy checks, Adam's state and a scheduler that counts epochs: all must be restored.
    return dict(
        update_rule="adam",
        optim_config={"learning_rate": 5e-3},
        batch_size=20,
        scheduler=lambda o: optim.StepLR(o, step_size=2, gamma=0.5),
        num_train_samples=40,
        num_val_samples=20,
        verbose=False,
        **extra,
    )


def _run_straight(epochs: int):
    snapshots = []
    model = _mlp(dropout=0.3)
    solver = optim.Solver(
        model,
        _data(n_train=60),
        num_epochs=epochs,
        seed=1,
        on_epoch=[lambda s: snapshots.append(s.model.state_dict())],
        **_resumable_options(),
    )
    solver.train()
    return solver, snapshots


def _assert_same_run(straight, straight_snapshots, resumed, resumed_snapshots) -> None:
    assert all(np.array_equal(straight_snapshots[-1][k], v) for k, v in resumed_snapshots[-1].items())
    assert all(np.array_equal(straight.model.state_dict()[k], v) for k, v in resumed.model.state_dict().items())
    assert straight.loss_history == resumed.loss_history
    assert straight.val_acc_history == resumed.val_acc_history
    assert straight.train_acc_history == resumed.train_acc_history
    assert straight.scheduler.state_dict() == resumed.scheduler.state_dict()
    assert straight.optimizer.param_groups[0]["lr"] == resumed.optimizer.param_groups[0]["lr"] == 5e-3 / 2


def test_resuming_from_an_epoch_checkpoint_is_bit_for_bit_the_uninterrupted_run(tmp_path):
    straight, straight_snapshots = _run_straight(epochs=2)
    path = tmp_path / "run-{epoch}.npz"
    first = optim.Solver(
        _mlp(dropout=0.3), _data(n_train=60), num_epochs=1, seed=1, checkpoint_path=path, **_resumable_options()
    )
    first.train()
    ag.manual_seed(123)  # the checkpoint must restore the dropout generator
    snapshots = []
    resumed = optim.Solver.resume(
        tmp_path / "run-1.npz",
        _mlp(dropout=0.3, seed=5),
        _data(n_train=60),
        num_epochs=2,
        seed=99,
        on_epoch=[lambda s: snapshots.append(s.model.state_dict())],
        **_resumable_options(),
    )
    assert (resumed.epoch, resumed.iteration) == (1, 3)
    resumed.train()
    _assert_same_run(straight, straight_snapshots, resumed, snapshots)


@pytest.mark.parametrize("stop_at", [3, 4, 5], ids=["epoch-end", "mid-epoch", "before-epoch-end"])
def test_resuming_from_a_checkpoint_taken_by_a_callback_is_bit_for_bit_too(tmp_path, stop_at):
    straight, straight_snapshots = _run_straight(epochs=2)
    path = tmp_path / "mid.npz"

    def save_and_stop(s):
        if s.iteration == stop_at:
            s.save(path)
            s.stop_training = True

    optim.Solver(
        _mlp(dropout=0.3), _data(n_train=60), num_epochs=2, seed=1, on_iteration=[save_and_stop], **_resumable_options()
    ).train()
    ag.manual_seed(7)
    snapshots = []
    resumed = optim.Solver(
        _mlp(dropout=0.3, seed=3),
        _data(n_train=60),
        num_epochs=2,
        on_epoch=[lambda s: snapshots.append(s.model.state_dict())],
        **_resumable_options(),
    )
    resumed.load(path)
    resumed.train()
    _assert_same_run(straight, straight_snapshots, resumed, snapshots)


def test_resuming_mid_epoch_continues_a_per_iteration_schedule_bit_for_bit(tmp_path):
    options = _resumable_options()
    options["scheduler"] = lambda o: optim.CosineAnnealingLR(o, T_max=9)
    options["scheduler_interval"] = "iteration"
    straight_snapshots = []
    straight = optim.Solver(
        _mlp(dropout=0.3),
        _data(n_train=60),
        num_epochs=3,
        seed=1,
        on_epoch=[lambda s: straight_snapshots.append(s.model.state_dict())],
        **options,
    )
    straight.train()
    path = tmp_path / "mid.npz"

    def save_and_stop(s):
        if s.iteration == 4:
            s.save(path)
            s.stop_training = True

    optim.Solver(
        _mlp(dropout=0.3), _data(n_train=60), num_epochs=3, seed=1, on_iteration=[save_and_stop], **options
    ).train()
    snapshots = []
    resumed = optim.Solver(
        _mlp(dropout=0.3, seed=3),
        _data(n_train=60),
        num_epochs=3,
        on_epoch=[lambda s: snapshots.append(s.model.state_dict())],
        **options,
    )
    resumed.load(path)
    resumed.train()
    assert resumed.scheduler.last_epoch == straight.scheduler.last_epoch == 9
    assert resumed.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]
    assert all(np.array_equal(straight_snapshots[-1][k], v) for k, v in snapshots[-1].items())
    assert straight.loss_history == resumed.loss_history


def test_loading_a_checkpoint_needs_the_same_kind_of_solver(tmp_path):
    solver = _solver(lr_decay=0.5)
    solver.save(tmp_path / "ckpt.npz")
    with pytest.raises(ValueError, match="needs a solver with a scheduler, got one without"):
        _solver().load(tmp_path / "ckpt.npz")


def test_loading_a_checkpoint_needs_the_same_scheduler_interval(tmp_path):
    _solver(lr_decay=0.5).save(tmp_path / "per_epoch.npz")
    with pytest.raises(ValueError, match="stepped its scheduler per epoch, so the solver must too"):
        _solver(lr_decay=0.5, scheduler_interval="iteration").load(tmp_path / "per_epoch.npz")
    _solver(lr_decay=0.5, scheduler_interval="iteration").save(tmp_path / "per_iteration.npz")
    with pytest.raises(ValueError, match="stepped its scheduler per iteration"):
        _solver(lr_decay=0.5).load(tmp_path / "per_iteration.npz")
    _solver(lr_decay=0.5).load(tmp_path / "per_epoch.npz")  # the same interval loads


def _snapshot(solver: optim.Solver) -> list:
    """What a failed load must leave as it was: model, optimizer, scheduler, position, histories, generators."""
    optimizer = solver.optimizer.state_dict()
    return [
        *solver.model.state_dict().values(),
        *(buffer for buffers in optimizer["state"].values() for buffer in buffers.values()),
        optimizer["param_groups"],
        None if solver.scheduler is None else solver.scheduler.state_dict(),
        (solver.epoch, solver.iteration, solver.best_val_acc, solver.loss_history, solver.val_acc_history),
        solver._rng.bit_generator.state,
        engine_random.generator().bit_generator.state,
    ]


def _assert_unchanged(before: list, after: list) -> None:
    assert len(before) == len(after)
    for x, y in zip(before, after, strict=True):
        assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y


def _adam_checkpoint(path) -> None:
    adam = _solver(update_rule="adam", num_epochs=1)
    adam.train()
    adam.save(path)


def test_resuming_with_another_update_rule_is_refused_naming_both(tmp_path):
    path = tmp_path / "adam.npz"
    _adam_checkpoint(path)
    sgd = _solver(update_rule="sgd")
    before = _snapshot(sgd)
    with pytest.raises(
        ValueError, match=rf"^Solver.load: {path} was saved by a run with the update rule Adam, got one with SGD"
    ):
        sgd.load(path)
    _assert_unchanged(before, _snapshot(sgd))
    with pytest.raises(ValueError, match="update rule Adam, got one with SGD"):
        optim.Solver.resume(path, _mlp(), _data(), update_rule="sgd", verbose=False)


def test_an_older_checkpoint_of_another_update_rule_is_refused_by_the_optimizer_and_changes_nothing(tmp_path):
    path = tmp_path / "adam.npz"
    _adam_checkpoint(path)
    older = nn.load(path)
    del older["solver"]["optimizer_class"], older["solver"]["scheduler_class"]  # as written before they were
    nn.save(older, path)
    sgd = _solver(update_rule="sgd_momentum")
    before = _snapshot(sgd)
    # The model fits and is restored first; the optimizer's refusal must undo that.
    with pytest.raises(ValueError, match=r"^SGD.load_state_dict: group 0 lacks the SGD options \['dampening'"):
        sgd.load(path)
    _assert_unchanged(before, _snapshot(sgd))


def test_a_load_failing_at_its_last_step_leaves_the_solver_as_it_was(tmp_path):
    path = tmp_path / "adam.npz"
    _adam_checkpoint(path)
    broken = nn.load(path)
    broken["solver"]["engine_rng_state"] = {"bit_generator": "MT19937"}  # restored last of all
    nn.save(broken, path)
    solver = _solver(update_rule="adam")
    before = _snapshot(solver)
    with pytest.raises(ValueError, match="PCG64"):
        solver.load(path)
    _assert_unchanged(before, _snapshot(solver))


def test_resuming_with_another_scheduler_is_refused_naming_both(tmp_path):
    path = tmp_path / "step.npz"
    _solver(scheduler=lambda o: optim.StepLR(o, step_size=2)).save(path)
    cosine = _solver(scheduler=lambda o: optim.CosineAnnealingLR(o, T_max=5))
    with pytest.raises(ValueError, match="saved by a run with the scheduler StepLR, got one with CosineAnnealingLR"):
        cosine.load(path)


def test_loading_a_file_that_is_not_a_solver_checkpoint_names_it(tmp_path):
    path = tmp_path / "model.npz"
    nn.save({"model": _mlp().state_dict()}, path)
    with pytest.raises(ValueError, match=rf"^Solver.load: {path} is not a Solver checkpoint: the keys \['best_params'"):
        _solver().load(path)


# ----- a distributed model (two ranks: tests/nn/distributed_ranks.py, check "solver") -----
def test_a_distributed_model_in_a_world_of_one_trains_as_the_plain_model(tmp_path):
    plain = _solver(_mlp(), checkpoint_path=tmp_path / "plain.npz")
    wrapped = _solver(nn.parallel.DistributedDataParallel(_mlp()), checkpoint_path=tmp_path / "wrapped.npz")
    for solver in (plain, wrapped):
        solver.train()
    assert wrapped.loss_history == plain.loss_history and wrapped.val_acc_history == plain.val_acc_history
    assert list(nn.load(tmp_path / "wrapped.npz")["model"]) == [f"module.{k}" for k in plain.model.state_dict()]


def test_a_distributed_solver_needs_a_batch_that_splits_evenly_over_the_ranks(monkeypatch):
    model = nn.parallel.DistributedDataParallel(_mlp())
    monkeypatch.setattr(nn.distributed, "get_world_size", lambda: 3)
    with pytest.raises(ValueError, match=r"Solver: batch_size must be a multiple of the 3 ranks .*, got 25"):
        _solver(model)
