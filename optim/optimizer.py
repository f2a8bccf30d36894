"""Optimizer: the base class of every update rule; parameter groups, per-parameter state, state_dict.

A subclass declares its defaults and one method, `_update(value, grad, state, group)`, which changes one
parameter's array in place. Everything shared lives here, written once: argument checks, skipping
parameters without a gradient, `maximize`, weight decay (L2 folded into the gradient, or decoupled as in
AdamW), keeping the dtype, and the engine's in-place version bump.
"""

from collections.abc import Callable, Iterable

import numpy as np

from autograd import TensorNode, enable_grad

# Options that must be numbers >= 0 wherever an optimizer has them; betas get their own interval check.
_NON_NEGATIVE = ("lr", "eps", "weight_decay", "momentum", "dampening", "alpha", "lr_decay", "initial_accumulator_value")
# Options that are switches: only bools, since a string such as "False" would switch them on.
_FLAGS = ("nesterov", "maximize", "amsgrad", "centered", "decoupled_weight_decay")


def plain(value):
    """`value` with numpy scalars and 0-d arrays turned into Python numbers, 1-d arrays, lists and tuples into tuples.

    Options and counters come back from a checkpoint as numpy values; a `np.float64` learning rate
    would turn a float32 parameter's temporaries into float64, so options are kept as Python numbers.

    >>> plain(np.float64(0.5)), plain(np.array(3)), plain(np.array([0.9, 0.999]))
    (0.5, 3, (0.9, 0.999))
    """
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, (np.ndarray, list, tuple)):
        return tuple(plain(v) for v in value)
    return value


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _describe(x) -> str:
    if isinstance(x, TensorNode):
        reason = f"dtype {x.dtype}" if x.dtype.kind != "f" else "requires_grad=False"
        return f"a TensorNode with {reason}"
    if isinstance(x, np.ndarray):
        return f"an ndarray of shape {x.shape}"
    return type(x).__name__


class Optimizer:
    """Base class: holds `param_groups` (dicts of parameters and options) and `state` (a dict per parameter).

    Args:
        params: an iterable of TensorNodes that require grad, or of dicts {"params": [...], option: value}
            whose options override `defaults` for that group.
        defaults: every option of the update rule with its default value.

    Raises:
        TypeError: `params` is not an iterable of TensorNodes requiring grad (or of group dicts).
        ValueError: no parameters, a parameter appears twice, or an option is out of range.
    """

    def __init__(self, params: Iterable, defaults: dict):
        self._where = type(self).__name__
        if isinstance(params, (TensorNode, dict, set)) or not isinstance(params, Iterable):
            raise TypeError(
                f"{self._where}: params must be an ordered iterable of TensorNodes or of param-group dicts, "
                f"got {_describe(params)}"
            )
        self.defaults = {k: plain(v) for k, v in defaults.items()}
        self._check_options(self.defaults, self._where)
        self.param_groups: list[dict] = []
        self.state: dict[TensorNode, dict] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._where}: params must hold at least one parameter, got an empty iterable")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{self._where}({len(self.param_groups)} group(s), {options})"

    # ----- parameter groups -----
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options; missing options take the defaults.

        Raises:
            TypeError: not a dict, or a parameter that is not a TensorNode requiring grad.
            ValueError: a parameter already optimized (here or in another group), or a bad option.
        """
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{self._where}: a param group must be a dict with a 'params' key, got {param_group!r}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{self._where}: a group's params must be ordered (a list or tuple), got a set")
        params = [params] if isinstance(params, TensorNode) else list(params)
        seen = {id(p): i for i, g in enumerate(self.param_groups) for p in g["params"]}
        for position, p in enumerate(params):
            if not isinstance(p, TensorNode) or not p.requires_grad:
                raise TypeError(
                    f"{self._where}: parameters must be TensorNodes that require grad, got {_describe(p)} "
                    f"at position {position} of group {len(self.param_groups)}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{self._where}: parameters must be leaf tensors, got the output of an op "
                    f"at position {position} of group {len(self.param_groups)}"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{self._where}: each parameter may appear once, got one twice (position {position} of group "
                    f"{len(self.param_groups)}, already in group {seen[id(p)]})"
                )
            seen[id(p)] = len(self.param_groups)
        group = {**self.defaults, **{k: plain(v) for k, v in param_group.items() if k != "params"}}
        self._check_options(group, self._where)
        group["params"] = params
        self.param_groups.append(group)

    def _check_options(self, options: dict, where: str) -> None:
        """Raise naming the first option of the wrong type (TypeError) or out of range (ValueError).

        `where` starts the message: the optimizer, and on load_state_dict the group. Subclasses add rules.
        """
        for name in _NON_NEGATIVE:
            value = options.get(name, 0.0)
            if not _is_number(value):
                raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__} {value!r}")
            if not value >= 0.0:  # written so that NaN fails too
                raise ValueError(f"{where}: {name} must be >= 0, got {value!r}")
        for name in _FLAGS:
            value = options.get(name, False)
            if not isinstance(value, bool):
                raise TypeError(f"{where}: {name} must be a bool, got {type(value).__name__} {value!r}")
        betas = options.get("betas", ())
        if not isinstance(betas, tuple) or not all(_is_number(beta) for beta in betas):
            raise TypeError(f"{where}: betas must be a tuple of numbers, got {type(betas).__name__} {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{where}: betas[{i}] must lie in [0, 1), got {beta!r}")

    # ----- stepping -----
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None, or to zeros with `set_to_none=False`."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = np.zeros_like(p.grad)

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; parameters whose `.grad` is None are left alone.

        Args:
            closure: optional; re-evaluates the model and returns the loss (it is called with grad enabled).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for g, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                self._check_grad_shape(p, i, g)
                value = p.value if p.value.flags.writeable else p.value.copy()
                grad = self._gradient(value, np.asarray(p.grad, dtype=value.dtype), group)
                self._update(value, grad, self.state.setdefault(p, {}), group)
                # Handing the same array back makes the engine bump the version: a graph that saved
                # the old values refuses to backpropagate through them.
                p.value = value
        return loss

    def _check_grad_shape(self, p: TensorNode, position: int, group: int) -> None:
        # A gradient of another shape would broadcast into the update silently, or fail deep in numpy.
        if np.shape(p.grad) != p.shape:
            name = f" ({p.name!r})" if p.name else ""
            raise ValueError(
                f"{self._where}.step: the gradient of parameter {position}{name} of group {group} must have "
                f"the parameter's shape {p.shape}, got {np.shape(p.grad)}"
            )

    @staticmethod
    def _gradient(value: np.ndarray, grad: np.ndarray, group: dict) -> np.ndarray:
        """The gradient the rule follows: negated for `maximize`, with L2 weight decay folded in.

        Decoupled weight decay (AdamW) shrinks the parameter itself instead, before the update.
        """
        if group.get("maximize", False):
            grad = -grad
        decay = group.get("weight_decay", 0.0)
        if decay:
            if group.get("decoupled_weight_decay", False):
                value *= 1.0 - group["lr"] * decay
            else:
                grad = grad + decay * value
        return grad

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Change `value` in place by one step of the rule, with `state` this parameter's buffers."""
        raise NotImplementedError

    # ----- checkpoints -----
    def state_dict(self) -> dict:
        """A snapshot as PyTorch lays it out: {"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}.

        Parameters are numbered by their position across the groups. Arrays are copies, options and
        counters plain numbers, so the dict can go through `nn.save`.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for p, s in self.state.items()
            if s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and buffers saved by `state_dict()` (also after a trip through `nn.save`).

        Buffers are copied and cast to their parameter's dtype; groups must match in number and size, and
        hold every option of this update rule. All or nothing: the optimizer changes only if every entry fits.

        Raises:
            ValueError: the saved groups do not match this optimizer's groups (another update rule's lack
                its options), an option or a buffer is out of range or mis-shaped.
            TypeError: an option or a buffer of the wrong type.
        """
        where = f"{self._where}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: a dict with 'state' and 'param_groups' expected, got {_describe(state_dict)}")
        if not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{where}: a dict with 'state' and 'param_groups' expected, got keys {list(state_dict)}")
        saved_groups = state_dict["param_groups"]
        if isinstance(saved_groups, dict):  # a container that stores lists as {"0": ..., "1": ...}
            saved_groups = [saved_groups[k] for k in sorted(saved_groups, key=int)]
        if not all(isinstance(g, dict) and "params" in g for g in saved_groups):
            raise ValueError(f"{where}: every saved group must be a dict with a 'params' key")
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(np.atleast_1d(g["params"])) for g in saved_groups]
        if sizes != saved_sizes:
            raise ValueError(f"{where}: groups of sizes {sizes} expected, got groups of sizes {saved_sizes}")
        indices = [[int(i) for i in np.atleast_1d(g["params"])] for g in saved_groups]
        by_index = {}
        for group, saved in zip(self.param_groups, indices, strict=True):
            by_index.update(zip(saved, group["params"], strict=True))
        if len(by_index) != sum(sizes):
            raise ValueError(f"{where}: each parameter index may appear once, got the groups {indices}")
        new_groups = []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            options = {k: plain(v) for k, v in saved.items() if k != "params"}
            # Groups saved by another update rule lack this one's options (SGD's momentum in Adam's
            # groups): refused here rather than as a KeyError at the next step.
            missing = sorted(set(self.defaults) - set(options))
            if missing:
                raise ValueError(
                    f"{where}: group {g} lacks the {self._where} options {missing}; it has {sorted(options)}, "
                    f"so it was saved by another optimizer"
                )
            self._check_options(options, f"{where} (group {g})")
            new_groups.append({**options, "params": group["params"]})
        state = {}
        for i, buffers in state_dict["state"].items():
            if int(i) not in by_index:
                raise ValueError(
                    f"{where}: state for parameters {sorted(by_index)} expected, got state for parameter {i}"
                )
            if not isinstance(buffers, dict):
                raise TypeError(f"{where}: the state of parameter {i} must be a dict, got {_describe(buffers)}")
            p = by_index[int(i)]
            state[p] = {key: _load_entry(f"{where}: {key} of parameter {i}", key, v, p) for key, v in buffers.items()}
        self.param_groups = new_groups
        self.state = state


def _load_entry(where: str, key: str, value, p: TensorNode):
    """A saved state entry, checked and copied: "step" is a counter, every other entry a buffer shaped like `p`."""
    if key == "step":
        step = plain(value)
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"{where} must be an int, got {type(step).__name__} {step!r}")
        if step < 0:
            raise ValueError(f"{where} must be >= 0, got {step}")
        return step
    array = np.asarray(value)
    # Within a kind only: a string or complex buffer would fail halfway through a step, or lose its meaning.
    if not np.can_cast(array.dtype, p.dtype, casting="same_kind"):
        raise TypeError(f"{where} must hold numbers that cast to {p.dtype}, got dtype {array.dtype}")
    if array.shape != p.shape:
        raise ValueError(f"{where} must have its shape {p.shape}, got {array.shape}")
    return np.array(array, dtype=p.dtype)
