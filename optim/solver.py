"""Solver: the course work's training loop on nodegrad modules, optimizers and schedulers, with checkpoints.

A Solver trains a classifier on dict(X_train, y_train, X_val, y_val) numpy arrays: each epoch takes a fresh
permutation of the training set in batches of `batch_size`, and ends with an accuracy check on (a sample of)
the training and validation sets, keeping the parameters that scored best on validation. A checkpoint holds
everything the run depends on (model, optimizer, scheduler, position, histories, both random generators),
so a run resumed from one continues exactly, bit for bit, as if it had never stopped.

Given an `nn.parallel.DistributedDataParallel` model, under `mpirun -np N` the solver trains on N ranks
at once: every rank draws the same batch order and takes an N-th of each batch (batch_size is the global
batch), the model averages the gradients, and rank 0 alone shows progress and writes checkpoints while
the others wait. Every rank then calls train, save and load alike.
"""

import os
from collections.abc import Callable, Iterable

import numpy as np

import autograd
import nn
from autograd import random as engine_random
from nn import distributed
from optim.adagrad import Adagrad
from optim.adam import Adam, AdamW
from optim.lr_scheduler import ExponentialLR, LRScheduler
from optim.optimizer import Optimizer
from optim.rmsprop import RMSprop
from optim.sgd import SGD

# update_rule -> (optimizer class, the course work's defaults for it)
UPDATE_RULES = {
    "sgd": (SGD, {"lr": 1e-2}),
    "sgd_momentum": (SGD, {"lr": 1e-2, "momentum": 0.9}),
    "rmsprop": (RMSprop, {"lr": 1e-2}),
    "adagrad": (Adagrad, {"lr": 1e-2}),
    "adam": (Adam, {"lr": 1e-3}),
    "adamw": (AdamW, {"lr": 1e-3}),
}
# The course work's optim_config names -> the optimizers' names (beta1 and beta2 become betas).
CONFIG_NAMES = {"learning_rate": "lr", "decay_rate": "alpha", "epsilon": "eps"}
DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


def _optimizer_options(config: dict) -> dict:
    """optim_config in either vocabulary, as keyword arguments of the optimizer.

    >>> _optimizer_options({"learning_rate": 0.1, "beta2": 0.99})
    {'lr': 0.1, 'betas': (0.9, 0.99)}
    """
    options = {CONFIG_NAMES.get(k, k): v for k, v in config.items() if k not in ("beta1", "beta2")}
    if "beta1" in config or "beta2" in config:
        options["betas"] = (config.get("beta1", 0.9), config.get("beta2", 0.999))
    return options


class _Silent:
    def update(self, iteration: int, loss: float, **shown) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class _Lines(_Silent):
    """The course work's output, one line every `print_every` iterations: for when tqdm is not installed."""

    def __init__(self, total: int, print_every: int):
        self.total, self.print_every = total, print_every

    def update(self, iteration: int, loss: float, **shown) -> None:
        if (iteration - 1) % self.print_every == 0:
            print(f"(Iteration {iteration} / {self.total}) loss: {loss:.6f}")

    def note(self, text: str) -> None:
        print(text)


class _Bar(_Silent):
    """A live tqdm bar with the latest loss, accuracies and learning rate."""

    def __init__(self, tqdm, total: int, done: int):
        self.bar = tqdm(total=total, initial=done, unit="it", dynamic_ncols=True)

    def update(self, iteration: int, loss: float, **shown) -> None:
        self.bar.update(iteration - self.bar.n)
        self.bar.set_postfix({"loss": f"{loss:.4f}", **{k: f"{v:.4g}" for k, v in shown.items()}}, refresh=False)

    def note(self, text: str) -> None:
        self.bar.write(text)

    def close(self) -> None:
        self.bar.close()


def _progress(verbose: bool, total: int, done: int, print_every: int) -> _Silent:
    if not verbose:
        return _Silent()
    try:
        from tqdm.auto import tqdm  # optional: imported only when a run wants to show progress
    except ImportError:
        return _Lines(total, print_every)
    return _Bar(tqdm, total, done)


class Solver:
    """Train `model` on `data` with minibatch updates, track loss and accuracies, keep the best parameters.

    Args:
        model: an nn.Module mapping a batch of X to class scores (N, C).
        data: dict with the numpy arrays X_train, y_train, X_val, y_val (integer labels).
        loss_fn: loss_fn(scores, y_batch) -> scalar TensorNode; default `autograd.cross_entropy`.
        optimizer: an Optimizer over model's parameters; or leave None and name an `update_rule`
            (one of UPDATE_RULES, default "sgd") with `optim_config` in the course's names
            (learning_rate, momentum, decay_rate, beta1, beta2, epsilon) or the optimizers' own.
        lr_decay: multiply the learning rate by this after each epoch (an ExponentialLR).
        scheduler: an LRScheduler on the optimizer, or a function optimizer -> LRScheduler; stepped once
            per epoch (ReduceLROnPlateau gets the validation accuracy, so give it mode="max").
        scheduler_interval: "epoch" (default) or "iteration": step the scheduler after every update
            instead, as a PyTorch loop that calls `scheduler.step()` per batch (one-cycle, warm-up, cosine
            over the whole run: give the schedule its length in iterations, num_epochs *
            iterations_per_epoch). Not for ReduceLROnPlateau, which needs an epoch's metric.
        num_epochs: epochs that `train()` runs up to.
        batch_size: examples per update; an epoch is max(len(X_train) // batch_size, 1) updates.
        num_train_samples: training examples drawn for the accuracy check (None: all of them).
        num_val_samples: validation examples drawn for the accuracy check (None: all of them).
        print_every: without tqdm, print the loss every this many iterations.
        verbose: show a progress bar (tqdm if installed, else printed lines); False prints nothing.
        seed: seeds the solver's generator (batch order, accuracy samples). Dropout and initializers
            draw from the engine's generator: seed it with `autograd.manual_seed`. With a distributed
            model and no seed, rank 0 draws one for all (they must agree on the batch order).
        checkpoint_path: save a checkpoint there after every epoch; "{epoch}" in it is replaced by the
            epoch number, otherwise each checkpoint replaces the previous one.
        on_iteration: functions called with the solver after every update.
        on_epoch: functions called with the solver after every epoch's accuracy check.
        restore_best: at the end of `train()`, load the parameters that scored best on validation (the
            course work's behaviour); False leaves the last ones in place.

    Attributes set by training: `epoch`, `iteration`, `loss_history` (one per update), `train_acc_history`
    and `val_acc_history` (after the first update and after every epoch), `best_val_acc`, `best_params`.
    A callback may set `solver.stop_training = True` to end `train()` after the current iteration.

    >>> import nn
    >>> rng = np.random.default_rng(0); X = rng.standard_normal((40, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64); data = dict(X_train=X, y_train=y, X_val=X, y_val=y)
    >>> solver = Solver(nn.Linear(2, 2), data, update_rule="adam", optim_config={"learning_rate": 0.1},
    ...                 num_epochs=20, batch_size=10, verbose=False, seed=0)
    >>> solver.train(); len(solver.loss_history), len(solver.val_acc_history), solver.best_val_acc > 0.9
    (80, 21, True)
    """

    def __init__(
        self,
        model: nn.Module,
        data: dict,
        *,
        loss_fn: Callable | None = None,
        optimizer: Optimizer | None = None,
        update_rule: str | None = None,
        optim_config: dict | None = None,
        lr_decay: float = 1.0,
        scheduler: LRScheduler | Callable | None = None,
        scheduler_interval: str = "epoch",
        num_epochs: int = 10,
        batch_size: int = 100,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        print_every: int = 10,
        verbose: bool = True,
        seed: int | None = None,
        checkpoint_path: str | os.PathLike | None = None,
        on_iteration: Iterable[Callable] = (),
        on_epoch: Iterable[Callable] = (),
        restore_best: bool = True,
    ):
        missing = [k for k in DATA_KEYS if k not in data]
        if missing:
            raise ValueError(f"Solver: data must hold {', '.join(DATA_KEYS)}, got keys {sorted(data)}")
        for name, value in (("num_epochs", num_epochs), ("batch_size", batch_size), ("print_every", print_every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Solver: {name} must be a positive int, got {value!r}")
        if scheduler_interval not in ("epoch", "iteration"):
            raise ValueError(f"Solver: scheduler_interval must be 'epoch' or 'iteration', got {scheduler_interval!r}")
        self.model = model
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])
        if len(self.X_train) != len(self.y_train) or len(self.X_val) != len(self.y_val):
            raise ValueError(
                f"Solver: X and y must have the same length, got {len(self.X_train)} and "
                f"{len(self.y_train)} training, {len(self.X_val)} and {len(self.y_val)} validation"
            )
        self.loss_fn = autograd.cross_entropy if loss_fn is None else loss_fn
        self.optimizer = self._make_optimizer(optimizer, update_rule, optim_config)
        self.scheduler = self._make_scheduler(scheduler, lr_decay)
        if scheduler_interval == "iteration" and self.scheduler is not None and self.scheduler.needs_metric:
            raise ValueError(
                f"Solver: {type(self.scheduler).__name__} needs an epoch's metric, so it cannot step "
                f"every iteration; got scheduler_interval='iteration'"
            )
        self.scheduler_interval = scheduler_interval
        self.num_epochs, self.batch_size = num_epochs, batch_size
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.print_every, self.verbose = print_every, verbose
        self.checkpoint_path = checkpoint_path
        self.on_iteration, self.on_epoch = list(on_iteration), list(on_epoch)
        self.restore_best = restore_best
        # A DistributedDataParallel model trains on every rank at once, each on its share of every batch.
        distributed_model = isinstance(model, nn.parallel.DistributedDataParallel)
        self._rank, self._ranks = (
            (distributed.get_rank(), distributed.get_world_size()) if distributed_model else (0, 1)
        )
        if batch_size % self._ranks:
            raise ValueError(
                f"Solver: batch_size must be a multiple of the {self._ranks} ranks (each takes an equal share of "
                f"every batch), got {batch_size}"
            )
        if seed is None and self._ranks > 1:
            seed = distributed.broadcast_object(np.random.SeedSequence().entropy)
        self._rng = np.random.default_rng(seed)
        self._order = None  # this epoch's permutation of the training set
        self.epoch = 0
        self.iteration = 0
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.best_val_acc = -1.0
        self.best_params: dict | None = None
        self.stop_training = False

    def _make_optimizer(self, optimizer, update_rule, optim_config) -> Optimizer:
        if optimizer is not None:
            if update_rule is not None or optim_config is not None:
                raise ValueError("Solver: pass either optimizer or update_rule/optim_config, got both")
            if not isinstance(optimizer, Optimizer):
                raise TypeError(f"Solver: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}")
            return optimizer
        rule = "sgd" if update_rule is None else update_rule
        if rule not in UPDATE_RULES:
            raise ValueError(f"Solver: update_rule must be one of {sorted(UPDATE_RULES)}, got {rule!r}")
        optimizer_class, defaults = UPDATE_RULES[rule]
        return optimizer_class(self.model.parameters(), **{**defaults, **_optimizer_options(optim_config or {})})

    def _make_scheduler(self, scheduler, lr_decay) -> LRScheduler | None:
        if lr_decay != 1.0:
            if scheduler is not None:
                raise ValueError(f"Solver: pass lr_decay or scheduler, got lr_decay={lr_decay!r} and a scheduler")
            return ExponentialLR(self.optimizer, gamma=lr_decay)
        if scheduler is None or isinstance(scheduler, LRScheduler):
            if scheduler is not None and scheduler.optimizer is not self.optimizer:
                raise ValueError("Solver: the scheduler must drive the solver's optimizer, got one on another")
            return scheduler
        return scheduler(self.optimizer)

    @property
    def iterations_per_epoch(self) -> int:
        return max(len(self.X_train) // self.batch_size, 1)

    # ----- training -----
    def step(self) -> float:
        """One update on the next batch of this epoch's permutation; returns (and records) its loss."""
        position = self.iteration % self.iterations_per_epoch
        if position == 0 or self._order is None:
            self._order = self._rng.permutation(len(self.X_train))
        index = self._order[position * self.batch_size : (position + 1) * self.batch_size]
        index = index[self._rank :: self._ranks]  # this rank's share; the model averages the shares' gradients
        self.model.train()
        loss = self.loss_fn(self.model(self.X_train[index]), self.y_train[index])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.iteration += 1
        value = np.array([loss.item()], np.float64)
        if self._ranks > 1:  # the loss of the whole batch: the mean of the equal shares' mean losses
            distributed.all_reduce(value, op="mean")
        self.loss_history.append(float(value[0]))
        return self.loss_history[-1]

    def train(self) -> None:
        """Run updates until `num_epochs` epochs are done, then load the best validation parameters.

        Picks up where the solver stands, so it continues a run restored by `load()`.
        """
        per_epoch = self.iterations_per_epoch
        total = self.num_epochs * per_epoch
        progress = _progress(self.verbose and self._rank == 0, total, self.iteration, self.print_every)
        self.stop_training = False
        try:
            while self.iteration < total and not self.stop_training:
                loss = self.step()
                if self.scheduler is not None and self.scheduler_interval == "iteration":
                    self.scheduler.step()
                epoch_end = self.iteration % per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                if epoch_end or self.iteration == 1:
                    self._check_accuracies(progress)
                shown = {"lr": self.optimizer.param_groups[0]["lr"]}
                if self.val_acc_history:
                    shown.update(train_acc=self.train_acc_history[-1], val_acc=self.val_acc_history[-1])
                progress.update(self.iteration, loss, **shown)
                if epoch_end:
                    self._end_epoch()
                # Last, so that a callback sees (and may checkpoint) the run between two iterations.
                for callback in self.on_iteration:
                    callback(self)
        finally:
            progress.close()
        if self.restore_best and self.best_params is not None:
            self.model.load_state_dict(self.best_params)

    def _check_accuracies(self, progress: _Silent) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        progress.note(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:.6f}; val_acc: {val_acc:.6f}")
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = self.model.state_dict()

    def _end_epoch(self) -> None:
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if self.scheduler.needs_metric:
                self.scheduler.step(self.val_acc_history[-1])
            else:
                self.scheduler.step()
        if self.checkpoint_path is not None:
            self.save(os.fspath(self.checkpoint_path).format(epoch=self.epoch))
        for callback in self.on_epoch:
            callback(self)

    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """The fraction of X that the model classifies as y, in eval mode and without recording a graph.

        With `num_samples`, a random subset of that size (drawn by the solver's generator) is scored.
        The model's previous mode (train or eval) is restored afterwards.
        """
        if num_samples is not None and len(X) > num_samples:
            index = self._rng.choice(len(X), num_samples, replace=False)
            X, y = X[index], y[index]
        was_training = self.model.training
        self.model.eval()
        try:
            with autograd.no_grad():
                predictions = [
                    np.argmax(getattr(scores, "value", scores), axis=1)
                    for scores in (self.model(X[i : i + batch_size]) for i in range(0, len(X), batch_size))
                ]
        finally:
            self.model.train(was_training)
        return float(np.mean(np.concatenate(predictions) == y)) if len(X) else 0.0

    # ----- checkpoints -----
    def _state(self) -> dict:
        """Everything the run depends on: what save() writes and load() restores."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "best_params": self.best_params,
            "solver": {
                "optimizer_class": type(self.optimizer).__name__,
                "scheduler_class": None if self.scheduler is None else type(self.scheduler).__name__,
                "scheduler_interval": self.scheduler_interval,
                "epoch": self.epoch,
                "iteration": self.iteration,
                "best_val_acc": self.best_val_acc,
                "loss_history": np.array(self.loss_history),
                "train_acc_history": np.array(self.train_acc_history),
                "val_acc_history": np.array(self.val_acc_history),
                "order": self._order,
                # Generator states are dicts of str and (128-bit) int: JSON holds them exactly.
                "rng_state": self._rng.bit_generator.state,
                "engine_rng_state": engine_random.generator().bit_generator.state,
            },
        }
        if self._ranks > 1:  # each rank's own too (their dropout masks differ), so the run resumes exactly
            state["solver"]["engine_rng_states"] = distributed.all_gather_object(state["solver"]["engine_rng_state"])
        return state

    def save(self, path: str | os.PathLike) -> None:
        """Write a checkpoint of the whole run to `path` (an .npz through `nn.save`, atomic).

        Distributed, every rank calls it and rank 0 writes while the others wait (a failure raises on all).
        """
        state = self._state()
        if self._ranks > 1:
            distributed.on_rank_zero(nn.save, state, path)
        else:
            nn.save(state, path)

    def load(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint written by `save()` into this solver, its model, optimizer and scheduler.

        All or nothing: a checkpoint that does not fit leaves the solver, model, optimizer and scheduler as
        they were.

        Raises:
            ValueError: the file is not a Solver checkpoint; it was saved with another update rule or
                scheduler; it has a scheduler state and this solver no scheduler, or the reverse; its scheduler
                stepped per epoch and this one per iteration, or the reverse; or (from the model's, optimizer's
                or scheduler's load_state_dict) a part of it does not fit.
        """
        checkpoint = nn.load(path)
        self._check_fits(checkpoint, os.fspath(path))
        snapshot = self._state()
        try:
            self._restore(checkpoint)
        except BaseException:
            self._restore(snapshot)
            raise

    def _check_fits(self, checkpoint, path: str) -> None:
        """Refuse, before anything is restored, a checkpoint written by another kind of run."""
        keys = ["best_params", "model", "optimizer", "scheduler", "solver"]
        if not isinstance(checkpoint, dict) or sorted(checkpoint, key=str) != keys:
            got = sorted(checkpoint, key=str) if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise ValueError(f"Solver.load: {path} is not a Solver checkpoint: the keys {keys} expected, got {got}")
        saved_with = checkpoint["scheduler"] is not None
        if saved_with != (self.scheduler is not None):
            with_or_without = {True: "with", False: "without"}
            raise ValueError(
                f"Solver.load: {path} needs a solver {with_or_without[saved_with]} a "
                f"scheduler, got one {with_or_without[not saved_with]}"
            )
        state = checkpoint["solver"]
        # Checkpoints from before the option stepped their schedulers per epoch.
        interval = state.get("scheduler_interval", "epoch")
        if saved_with and interval != self.scheduler_interval:
            raise ValueError(
                f"Solver.load: {path} stepped its scheduler per {interval}, so the solver "
                f"must too, got scheduler_interval={self.scheduler_interval!r}"
            )
        # Older checkpoints do not name their classes; the optimizer then refuses groups that lack its options.
        for part, saved, own in (
            ("update rule", state.get("optimizer_class"), type(self.optimizer).__name__),
            ("scheduler", state.get("scheduler_class"), type(self.scheduler).__name__),
        ):
            if saved is not None and saved != own:
                raise ValueError(f"Solver.load: {path} was saved by a run with the {part} {saved}, got one with {own}")

    def _restore(self, checkpoint: dict) -> None:
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.best_params = checkpoint["best_params"]
        state = checkpoint["solver"]
        self.epoch, self.iteration, self.best_val_acc = state["epoch"], state["iteration"], state["best_val_acc"]
        self.loss_history = state["loss_history"].tolist()
        self.train_acc_history = state["train_acc_history"].tolist()
        self.val_acc_history = state["val_acc_history"].tolist()
        self._order = state["order"]
        self._rng.bit_generator.state = state["rng_state"]
        # A checkpoint of a distributed run has each rank's engine state; others one.
        by_rank = state.get("engine_rng_states")
        own = by_rank[self._rank] if by_rank is not None and len(by_rank) == self._ranks else state["engine_rng_state"]
        engine_random.generator().bit_generator.state = own

    @classmethod
    def resume(cls, path: str | os.PathLike, model: nn.Module, data: dict, **options) -> "Solver":
        """A new Solver(model, data, **options) restored from the checkpoint at `path`, ready to `train()` on."""
        solver = cls(model, data, **options)
        solver.load(path)
        return solver
