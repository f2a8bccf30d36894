"""Learning-rate schedulers: each `step()` sets the "lr" of every param group of an optimizer, as in PyTorch.

Schedules are written in PyTorch's chainable form: the lr of an epoch is computed from the current lr,
not from a closed formula, so two schedulers on one optimizer compose and the values equal PyTorch's.
A scheduler is stepped once at construction (epoch 0), then once per epoch after `optimizer.step()`.
OneCycleLR is the exception, as in PyTorch: a closed formula over the whole run, stepped after every
update (Solver(scheduler_interval="iteration")).
"""

import bisect
import math
import types
from collections.abc import Callable

import numpy as np

from optim.optimizer import Optimizer, plain


def _check_count(where: str, name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}")


class LRScheduler:
    """Base class: subclasses define `get_lr()`, the lr of each group at epoch `last_epoch`.

    Construction records each group's starting lr as "initial_lr" (kept by `base_lrs`) and runs the
    step to epoch 0.

    Raises:
        TypeError: `optimizer` is not an `optim.Optimizer`.
    """

    needs_metric = False  # whether step() takes the epoch's metric (the Solver passes its validation accuracy)

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def get_lr(self) -> list[float]:
        """The lr of each group for epoch `last_epoch`, computed from the groups' current lrs."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer's groups."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _restart(self) -> None:
        """Jump to epoch 0, as SequentialLR does at a milestone: the closed formula's lr where the schedule has one."""
        self.last_epoch = 0
        closed_form = getattr(self, "_closed_form", None)
        lrs = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = self._current()

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per param group."""
        return list(self._last_lr)

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # An attribute holding a list whose entries save and load their own state (SequentialLR's schedulers,
    # LambdaLR's lambdas), through `_save_entry` and `_load_entry`.
    _entries: str | None = None

    def state_dict(self) -> dict:
        """Every attribute but the optimizer: numbers, strings and (copied) lists of numbers."""
        skip = ("optimizer", self._entries)
        state = {k: list(v) if isinstance(v, list) else v for k, v in vars(self).items() if k not in skip}
        if self._entries:
            state[self._entries] = [self._save_entry(entry) for entry in getattr(self, self._entries)]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes saved by `state_dict()` (also after a trip through `nn.save`).

        Raises:
            ValueError: the saved attributes are not this scheduler's (another schedule saved them).
        """
        where = f"{type(self).__name__}.load_state_dict"
        own = sorted(k for k in vars(self) if k != "optimizer")
        if sorted(state_dict, key=str) != own:
            raise ValueError(
                f"{where}: the attributes {own} expected, got {list(state_dict)}, so another scheduler saved them"
            )
        entries = getattr(self, self._entries) if self._entries else []
        saved = _saved_list(state_dict[self._entries]) if self._entries else []
        if len(saved) != len(entries):
            raise ValueError(f"{where}: {self._entries} must have {len(entries)} entries, got {len(saved)}")
        for key, value in state_dict.items():
            if key != self._entries:
                value = plain(value)
                setattr(self, key, list(value) if isinstance(value, tuple) else value)
        for entry, entry_state in zip(entries, saved, strict=True):
            self._load_entry(entry, entry_state)

    def _save_entry(self, entry):
        raise NotImplementedError

    def _load_entry(self, entry, state) -> None:
        raise NotImplementedError


def _saved_list(value) -> list:
    """A list saved in a state dict, back as a list: also from an object array or a {"0": ..., "1": ...} dict."""
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=int)]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _saved_list(value.item())
    return list(value)


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` epochs.

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = StepLR(sgd, step_size=2, gamma=0.5); lrs = []
    >>> for _ in range(5):
    ...     s.step(); lrs.append(s.get_last_lr()[0])
    >>> lrs
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        _check_count("StepLR", "step_size", step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by `gamma` at each epoch listed in `milestones` (twice if listed twice).

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = MultiStepLR(sgd, milestones=[1, 3], gamma=0.5); lrs = []
    >>> for _ in range(4):
    ...     s.step(); lrs.append(s.get_last_lr()[0])
    >>> lrs
    [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1):
        for m in milestones:
            _check_count("MultiStepLR", "each milestone", m, minimum=0)
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if not hits:
            return self._current()
        return [lr * self.gamma**hits for lr in self._current()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma ** bisect.bisect_right(self.milestones, self.last_epoch) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by `gamma` every epoch (the course Solver's `lr_decay`).

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = ExponentialLR(sgd, gamma=0.5); s.step(); s.step(); s.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from the base lr down to `eta_min` over `T_max` epochs, then back up, and so on.

    At epoch t the lr is eta_min + (base - eta_min) * (1 + cos(pi t / T_max)) / 2, computed recursively
    as PyTorch does.

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = CosineAnnealingLR(sgd, T_max=2); lrs = []
    >>> for _ in range(4):
    ...     s.step(); lrs.append(round(s.get_last_lr()[0], 6))
    >>> lrs
    [0.5, 0.0, 0.5, 1.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        _check_count("CosineAnnealingLR", "T_max", T_max)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._current()
        if (t - 1 - period) % (2 * period) == 0:
            # Leaving the trough, where the ratio below would divide by 1 + cos(pi) = 0.
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base - low) * rise for lr, base in zip(self._current(), self.base_lrs, strict=True)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - low) + low for lr in self._current()]

    def _closed_form(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from `start_factor` to `end_factor` over `total_iters` epochs.

    The usual warm-up: LinearLR(opt, start_factor=0.1, total_iters=5) grows the lr tenfold in 5 epochs.

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = LinearLR(sgd, start_factor=0.25, total_iters=3); lrs = [s.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     s.step(); lrs.append(s.get_last_lr()[0])
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
    ):
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1], got {start_factor!r}")
        if not 0.0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: end_factor must lie in [0, 1], got {end_factor!r}")
        _check_count("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._current()]
        if t > self.total_iters:
            return self._current()
        # The ratio of consecutive factors start + (end - start) * t / total_iters.
        ratio = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * ratio for lr in self._current()]

    def _closed_form(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Set the lr of each group to its initial lr times `lr_lambda(epoch)`.

    `lr_lambda` is one function for every group, or a list of one per group. As in PyTorch, state_dict
    keeps the attributes of callable objects given as lambdas, but not plain functions (they cannot be saved).

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = LambdaLR(sgd, lambda epoch: min(1.0, (epoch + 1) / 4)); lrs = [s.get_last_lr()[0]]
    >>> for _ in range(3):
    ...     s.step(); lrs.append(round(s.get_last_lr()[0], 6))
    >>> lrs
    [0.25, 0.5, 0.75, 1.0]
    """

    _entries = "lr_lambdas"

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]]):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"LambdaLR: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}")
        groups = len(optimizer.param_groups)
        lambdas = _per_group("LambdaLR", "lr_lambda", lr_lambda, groups)
        for i, fn in enumerate(lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable (or a list of callables), got {fn!r} at {i}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def _save_entry(self, fn) -> dict | None:
        return None if isinstance(fn, types.FunctionType) else dict(vars(fn))

    def _load_entry(self, fn, attributes) -> None:
        if attributes is not None:
            vars(fn).update(attributes)


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching to the next at each epoch in `milestones`.

    As PyTorch's SequentialLR: construction undoes the schedulers' own first steps and restarts from the
    groups' initial lrs; at a milestone the next scheduler restarts at its epoch 0 (the closed formula's lr
    where it has one). The usual use is a warm-up before a decay:

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(sgd, start_factor=0.25, total_iters=3)
    >>> s = SequentialLR(sgd, [warmup, CosineAnnealingLR(sgd, T_max=2)], milestones=[3]); lrs = [s.get_last_lr()[0]]
    >>> for _ in range(5):
    ...     s.step(); lrs.append(round(s.get_last_lr()[0], 6))
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.0]
    """

    _entries = "_schedulers"

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int]):
        where = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{where}: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{where}: expects at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler) or scheduler.needs_metric:
                raise TypeError(
                    f"{where}: schedulers must be LRSchedulers stepped without a metric, "
                    f"got {type(scheduler).__name__} at index {i}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{where}: every scheduler must belong to the optimizer given, got another at {i}")
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{where}: expects one milestone fewer than schedulers, got {len(schedulers)} schedulers "
                f"and {len(milestones)} milestones"
            )
        for m in milestones:
            _check_count(where, "each milestone", m, minimum=0)
        self.optimizer, self._schedulers, self._milestones = optimizer, schedulers, milestones
        self.last_epoch = 0
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        stack = list(schedulers)  # undo every (nested) scheduler's first step
        while stack:
            scheduler = stack.pop()
            if isinstance(scheduler, SequentialLR):
                stack.extend(scheduler._schedulers)
            else:
                scheduler.last_epoch -= 1
        first = schedulers[bisect.bisect_right(milestones, 0)]
        first.step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch with the scheduler whose turn it is (restarting it at its milestone)."""
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _restart(self) -> None:
        raise NotImplementedError(
            "SequentialLR: cannot restart at a milestone of an enclosing SequentialLR (nor can PyTorch's); "
            "put it first in the enclosing list"
        )

    def _save_entry(self, scheduler: LRScheduler) -> dict:
        return scheduler.state_dict()

    def _load_entry(self, scheduler: LRScheduler, state: dict) -> None:
        scheduler.load_state_dict(state)


class OneCycleLR(LRScheduler):
    """The one-cycle policy, stepped after every batch: the lr climbs from max_lr / div_factor to `max_lr` over
    the first `pct_start` of `total_steps`, then anneals to max_lr / div_factor / final_div_factor.

    As PyTorch's OneCycleLR, also in its defaults: cosine annealing (or `anneal_strategy="linear"`), and with
    `cycle_momentum` the momentum (SGD's momentum, Adam's beta1) moving the opposite way, from `max_momentum`
    down to `base_momentum` and back. `three_phase` comes back down to the starting lr symmetrically before
    the final annealing. The schedule is a closed formula of the step, not chainable; stepping past
    `total_steps` raises ValueError. Give `total_steps`, or `epochs` and `steps_per_epoch`.

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = OneCycleLR(sgd, max_lr=1.0, total_steps=5, pct_start=0.4, anneal_strategy="linear",
    ...                cycle_momentum=False, div_factor=10.0, final_div_factor=1.0); lrs = [s.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     s.step(); lrs.append(round(s.get_last_lr()[0], 6))
    >>> lrs
    [0.1, 1.0, 0.7, 0.4, 0.1]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ):
        where = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{where}: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            _check_count(where, "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            _check_count(where, "epochs", epochs)
            _check_count(where, "steps_per_epoch", steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{where}: give total_steps, or epochs and steps_per_epoch, got none of them")
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"{where}: pct_start must lie in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{where}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        groups = optimizer.param_groups
        for group, top in zip(groups, _per_group(where, "max_lr", max_lr, len(groups)), strict=True):
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
        self.use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and not self.use_beta1:
                raise ValueError(
                    f"{where}: cycle_momentum needs an optimizer with momentum or betas, got {type(optimizer).__name__}"
                )
            highs = _per_group(where, "max_momentum", max_momentum, len(groups))
            lows = _per_group(where, "base_momentum", base_momentum, len(groups))
            for group, high, low in zip(groups, highs, lows, strict=True):
                group["max_momentum"], group["base_momentum"] = high, low
                self._set_momentum(group, high)
        self.total_steps, self.pct_start, self.anneal_strategy = total_steps, pct_start, anneal_strategy
        self.cycle_momentum, self.three_phase = cycle_momentum, three_phase
        super().__init__(optimizer)

    def _phases(self) -> list[tuple]:
        """(last step of the phase, lr from, lr to, momentum from, momentum to), keys into the param groups."""
        rise = float(self.pct_start * self.total_steps) - 1
        if self.three_phase:
            return [
                (rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * rise, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        return [
            (rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, past the schedule's total_steps={self.total_steps}")
        phases = self._phases()
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(phases):
                if step <= end or i == len(phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[momentum_from], group[momentum_to], pct))
                    break
                start = end
        return lrs


def _per_group(where: str, name: str, value, groups: int) -> list:
    """`value` for each of `groups` param groups: one number for all, or a list or tuple of one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"{where}: {name} must be a number or a list of {groups} (one per group), got {len(value)} values"
            )
        return list(value)
    return [value] * groups


# (mode, threshold_mode) -> is `metric` better than `best` by more than `threshold`?
_IS_BETTER = {
    ("min", "rel"): lambda metric, best, threshold: metric < best * (1.0 - threshold),
    ("min", "abs"): lambda metric, best, threshold: metric < best - threshold,
    ("max", "rel"): lambda metric, best, threshold: metric > best * (1.0 + threshold),
    ("max", "abs"): lambda metric, best, threshold: metric > best + threshold,
}
_WORST = {"min": math.inf, "max": -math.inf}


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by `factor` when a metric has not improved for more than `patience` epochs.

    `step(metric)` takes the epoch's metric: mode "min" for a loss, "max" for an accuracy. An improvement
    must beat the best value by `threshold` (relative: best * (1 -/+ threshold); absolute: best -/+
    threshold). After a reduction, `cooldown` epochs pass before bad epochs count again; no lr goes
    below its group's `min_lr`, and changes smaller than `eps` are skipped.

    >>> import autograd as ag, optim
    >>> sgd = optim.SGD([ag.tensor([0.0], requires_grad=True)], lr=1.0)
    >>> s = ReduceLROnPlateau(sgd, factor=0.5, patience=1)
    >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]:   # two bad epochs > patience: halve
    ...     s.step(loss)
    >>> s.get_last_lr()
    [0.25]
    """

    needs_metric = True

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        where = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{where}: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}")
        if mode not in _WORST:
            raise ValueError(f"{where}: mode must be one of {sorted(_WORST)}, got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{where}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"{where}: factor must lie in [0, 1), got {factor!r}")
        _check_count(where, "patience", patience, minimum=0)
        _check_count(where, "cooldown", cooldown, minimum=0)
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(min_lrs) != groups:
            raise ValueError(
                f"{where}: min_lr must be a number or a list of {groups} (one per group), got {len(min_lrs)} values"
            )
        self.optimizer = optimizer
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.min_lrs, self.eps = threshold_mode, cooldown, min_lrs, eps
        self.best = _WORST[mode]
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = self._current()

    def step(self, metric: float) -> None:
        """Record the epoch's metric and reduce the learning rates if it has plateaued."""
        metric = float(metric)
        self.last_epoch += 1
        if _IS_BETTER[self.mode, self.threshold_mode](metric, self.best, self.threshold):
            self.best = metric
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current()


__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
