"""Module, Parameter and the containers Sequential and ModuleList.

A Module registers what is assigned to its attributes: a Parameter joins `_parameters`, a Module
joins `_modules`, and a name given to `register_buffer` keeps a numpy array in `_buffers`. Every walk
over the module tree (names, state_dict, train, repr, apply) goes through `_traverse`, one explicit
stack, so a model nested thousands of levels deep never hits Python's recursion limit.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import TensorNode
from autograd.op import as_int

_TABLES = ("_parameters", "_buffers", "_modules")


class Parameter(TensorNode):
    """A TensorNode that requires grad and registers itself when assigned to a Module attribute.

    ndarrays keep their dtype (float64 stays float64); Python numbers and lists become float32.

    >>> Parameter([1.0, 2.0]).dtype, Parameter(np.zeros(2)).dtype, Parameter([0.5]).requires_grad
    (dtype('float32'), dtype('float64'), True)
    """

    __slots__ = ()

    def __init__(self, value, requires_grad: bool = True, name: str | None = None):
        super().__init__(value, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def write_(tensor, array) -> None:
    """Copy `array` into `tensor` (a TensorNode or an ndarray) in place, keeping its dtype and identity.

    A TensorNode's version counter is bumped, so a graph that saved the old values refuses to backpropagate.
    """
    target = tensor.value if isinstance(tensor, TensorNode) else tensor
    if not target.flags.writeable:
        if not isinstance(tensor, TensorNode):
            raise ValueError(f"write_: the array of shape {target.shape} is read-only")
        tensor.value = np.array(array, dtype=target.dtype)
        return
    np.copyto(target, array, casting="unsafe")
    if isinstance(tensor, TensorNode):
        tensor.value = target  # assigning the same array back is how the engine counts an in-place change


def check_sizes(where: str, **sizes) -> None:
    """Layer constructors' check that every size is a non-negative int (a helpful error before numpy's)."""
    for name, size in sizes.items():
        as_int(where, name, size, 0, "a non-negative int")


class RemovableHandle:
    """Returned by `register_forward_hook`; `.remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped."""

    missing_keys: list
    unexpected_keys: list


def _check_name(where: str, name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{where}: name must be a str, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{where}: name must be non-empty and contain no '.', got {name!r}")


def _traverse(root: "Module", prefix: str = "", remove_duplicate: bool = True):
    """Depth-first walk of the module tree with an explicit stack.

    Yields (name, module, depth, entering): entering=True before a module's subtree (pre-order) and
    False after it (post-order). With remove_duplicate, a module reached twice is visited once.
    """
    seen, on_path = set(), set()
    stack = [(prefix, root, 0, True)]
    while stack:
        name, module, depth, entering = stack.pop()
        if not entering:
            on_path.discard(id(module))
            yield name, module, depth, False
            continue
        if remove_duplicate:
            if id(module) in seen:
                continue
            seen.add(id(module))
        elif id(module) in on_path:
            raise ValueError(f"Module: {name!r} contains itself; a module tree must not have cycles")
        on_path.add(id(module))
        yield name, module, depth, True
        stack.append((name, module, depth, False))
        for key, child in reversed(module._modules.items()):
            if child is not None:
                stack.append((f"{name}.{key}" if name else key, child, depth + 1, True))


class Module:
    """Base class of layers and models: subclasses set attributes in `__init__` and define `forward`.

    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = Parameter(np.ones(2))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> m = Affine(); [name for name, _ in m.named_parameters()], m(np.array([2.0, 3.0])).value.tolist()
    (['scale'], [2.0, 3.0])
    """

    def __init__(self):
        # object.__setattr__ because our __setattr__ looks these tables up.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}: forward() is not defined")

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, inputs, output)` after every forward; a non-None result replaces the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ----- registration -----
    def _put(self, table: str, name: str, value) -> None:
        """Store `value` as `name` in `table`, dropping the name from the other tables and plain attributes.

        Replacing an entry of the same table keeps its position, as PyTorch does (Sequential order).
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"assigning {name!r}: call super().__init__() in {type(self).__name__}.__init__ first")
        for other in _TABLES:
            if other != table:
                self.__dict__[other].pop(name, None)
        self.__dict__.pop(name, None)
        self.__dict__[table][name] = value

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, (Parameter, Module)):
            self._put("_parameters" if isinstance(value, Parameter) else "_modules", name, value)
            return
        for table, kind in (("_parameters", Parameter), ("_modules", Module), ("_buffers", np.ndarray)):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                if value is not None and not isinstance(value, kind):
                    raise TypeError(
                        f"{type(self).__name__}.{name}: must be {kind.__name__} or None, got {type(value).__name__}"
                    )
                entries[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails, so plain attributes never pay for this.
        for table in _TABLES:
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in _TABLES:
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                del entries[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or None, a declared but absent parameter such as a disabled bias) as `name`."""
        _check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None, got {type(param).__name__}")
        self._put("_parameters", name, param)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register `module` as the child `name` (what attribute assignment does, for computed names)."""
        _check_name("add_module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be an nn.Module or None, got {type(module).__name__}")
        self._put("_modules", name, module)

    register_module = add_module

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Keep `array` (an ndarray, or None) as state without gradient: saved in state_dict, not optimized.

        Buffers are plain numpy arrays; layers such as BatchNorm update them in place.
        """
        _check_name("register_buffer", name)
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer: {name!r} must be an ndarray or None, got {type(array).__name__}")
        self._put("_buffers", name, array)

    # ----- iteration -----
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module) for this module and every descendant, parents first."""
        for name, module, _, entering in _traverse(self, prefix, remove_duplicate):
            if entering:
                yield name, module

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, parents first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for each direct child, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct children, each once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        walk = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        seen = set()
        for module_name, module in walk:
            for key, member in getattr(module, table).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{key}" if module_name else key), member

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, e.g. `features.0.weight`; a shared parameter is listed once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of this module and (with recurse) its descendants, each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) pairs, e.g. `bn.running_mean`."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        """Every buffer array of this module and (with recurse) its descendants."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call `fn` on every descendant and then on this module (children before parents); returns self."""
        for _, module, _, entering in _traverse(self):
            if not entering:
                fn(module)
        return self

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on every module; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: None, or zeros when set_to_none is False."""
        for param in self.parameters():
            if param.grad is not None:
                param.grad = None if set_to_none else np.zeros_like(param.grad)

    # ----- dtype and device -----
    def to(self, *args, **kwargs) -> "Module":
        """Cast every floating-point parameter, gradient and buffer to a dtype, in place; returns self.

        Spelled as PyTorch's: `to(dtype)`, `to(device)`, `to(device, dtype)`, `to(dtype=...)`, `to(tensor)`
        (its dtype). The dtype may be a numpy dtype or its name (or a torch dtype); integer parameters and
        buffers keep theirs. The only device is the CPU ("cpu" or a torch.device("cpu")).

        As in PyTorch, each Parameter stays the same object with a new array inside, so an optimizer built
        before the cast keeps updating the model (its buffers keep their dtype until it is rebuilt).

        Raises:
            TypeError: a dtype that is not a floating-point one.
            ValueError: a device other than the CPU, or arguments PyTorch's `to` does not take.

        >>> from nn import Linear
        >>> layer = Linear(2, 2); weight = layer.weight
        >>> layer.to("cpu", np.float64).weight is weight, weight.dtype
        (True, dtype('float64'))
        """
        dtype = _to_arguments(args, kwargs)
        if dtype is not None:
            self._cast(dtype)
        return self

    def float(self) -> "Module":
        """Floating-point parameters and buffers as float32; returns self."""
        return self.to(np.float32)

    def double(self) -> "Module":
        """Floating-point parameters and buffers as float64; returns self."""
        return self.to(np.float64)

    def half(self) -> "Module":
        """Floating-point parameters and buffers as float16; returns self."""
        return self.to(np.float16)

    def cpu(self) -> "Module":
        """Returns self: nodegrad keeps everything in main memory."""
        return self

    def _cast(self, dtype: np.dtype) -> None:
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.dtype.kind == "f" and param.dtype != dtype:
                    # astype keeps the memory order (Linear's transposed layout); the object stays the same.
                    param.value = param.value.astype(dtype)
                    if param.grad is not None:
                        param.grad = np.asarray(param.grad).astype(dtype)
            for key, buffer in module._buffers.items():
                if buffer is not None and buffer.dtype.kind == "f" and buffer.dtype != dtype:
                    module._buffers[key] = buffer.astype(dtype)

    def get_submodule(self, target: str) -> "Module":
        """The descendant at the dotted path `target` ("" is this module), e.g. `features.0`.

        Raises:
            AttributeError: naming the first step of the path that is not a child module.
        """
        module = self
        for name in target.split(".") if target else []:
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no submodule {name!r} in {target!r}")
            module = child
        return module

    # ----- state -----
    def _state_entries(self) -> Iterator[tuple[str, "Module", str, str]]:
        """(dotted name, owner, table, key) of every parameter and buffer, in PyTorch's state_dict order."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            for table in ("_parameters", "_buffers"):
                for key, member in getattr(module, table).items():
                    if member is not None:
                        yield (f"{module_name}.{key}" if module_name else key), module, table, key

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer by dotted name, as copied numpy arrays.

        >>> from nn import Linear
        >>> {k: v.shape for k, v in Linear(3, 2).state_dict().items()}
        {'weight': (2, 3), 'bias': (2,)}
        """
        state = {}
        for name, module, table, key in self._state_entries():
            member = getattr(module, table)[key]
            state[name] = np.array(member.value if isinstance(member, TensorNode) else member, copy=True)
        return state

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or TensorNodes) from `state_dict` into the parameters and buffers, cast to their dtypes.

        All or nothing: every entry is checked (name, shape, a dtype that casts to the target's within its
        kind) and cast before the first one is written, so a bad entry leaves the module as it was. With
        strict, missing and unexpected names are errors too; shape and dtype mismatches always are.

        Raises:
            TypeError: `state_dict` is not a mapping.
            ValueError: listing every missing, unexpected, mis-shaped, mistyped and read-only entry at once.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: state_dict must map names to arrays, got {type(state_dict).__name__}")
        missing, mismatched, updates = [], [], []
        own = set()
        for name, module, table, key in self._state_entries():
            own.add(name)
            if name not in state_dict:
                missing.append(name)
                continue
            value = state_dict[name]
            array = np.asarray(value.value if isinstance(value, TensorNode) else value)
            member = getattr(module, table)[key]
            target = member.value if isinstance(member, TensorNode) else member
            if array.shape != target.shape:
                mismatched.append(f"shape mismatch {name}: expected {target.shape}, got {array.shape}")
            # Within a kind only: a float into an int buffer, a complex into a real parameter or a string
            # anywhere would lose information or fail halfway through the writes.
            elif not np.can_cast(array.dtype, target.dtype, casting="same_kind"):
                mismatched.append(
                    f"dtype mismatch {name}: expected {target.dtype} or one of its kind, got {array.dtype}"
                )
            elif not isinstance(member, TensorNode) and not target.flags.writeable:
                mismatched.append(f"read-only {name}: the buffer cannot be written in place")
            else:
                updates.append((member, array, target.dtype))
        unexpected = [name for name in state_dict if name not in own]
        problems = [f"missing {missing}"] if strict and missing else []
        problems += [f"unexpected {unexpected}"] if strict and unexpected else []
        if problems or mismatched:
            raise ValueError("load_state_dict: " + "; ".join(problems + mismatched))
        # Cast first (an overflow warning made an error must come before any write): copying an array of
        # the target's own dtype and shape into it cannot fail, so no write needs undoing.
        casts = [(member, np.asarray(array, dtype=dtype)) for member, array, dtype in updates]
        for member, array in casts:
            write_(member, array)
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -----
    def extra_repr(self) -> str:
        """The settings shown inside this module's parentheses in repr; subclasses override it."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module, depth, entering in _traverse(self, remove_duplicate=False):
            indent = "  " * depth
            extra = module.extra_repr()
            extra_lines = extra.split("\n") if extra else []
            opened = len(extra_lines) > 1 or any(child is not None for child in module._modules.values())
            if not entering:
                if opened:
                    lines.append(f"{indent})")
                continue
            label = f"({name.rsplit('.', 1)[-1]}): " if depth else ""
            if opened:
                lines.append(f"{indent}{label}{type(module).__name__}(")
                lines.extend(f"{indent}  {line}" for line in extra_lines)
            else:
                lines.append(f"{indent}{label}{type(module).__name__}({extra})")
        return "\n".join(lines)


def _to_dtype(value) -> np.dtype:
    """A numpy dtype from a numpy dtype, its name, an array or TensorNode (its dtype) or a torch dtype."""
    if isinstance(value, (TensorNode, np.ndarray)):
        return value.dtype
    if type(value).__module__ == "torch" and type(value).__name__ == "dtype":
        value = str(value).removeprefix("torch.")
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(f"Module.to: expected a dtype, a device or a tensor, got {value!r}") from None


def _is_device(value) -> bool:
    if isinstance(value, str):
        return value.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta")
    return type(value).__name__ == "device"


def _to_arguments(args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype that `Module.to`'s arguments ask for (None: keep), checking that the device is the CPU."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if len(args) > 2 or unknown:
        raise ValueError(f"Module.to: takes (device, dtype), (dtype) or (tensor), got {args} and {sorted(unknown)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if _is_device(arg):
            device = arg
        else:
            dtype = arg
    if device is not None:
        kind = device if isinstance(device, str) else getattr(device, "type", str(device))
        if kind.split(":")[0] != "cpu":
            raise ValueError(f"Module.to: nodegrad runs on the CPU only, got device {device!r}")
    if dtype is None:
        return None
    dtype = _to_dtype(dtype)
    if dtype.kind not in "fc":
        raise TypeError(f"Module.to: only floating point or complex dtypes are accepted, got {dtype}")
    return dtype


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: integer indexing, assignment, length, iteration, append."""

    def _key(self, index: int) -> str:
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index must lie in [{-len(self)}, {len(self)}), got {index}")
        return list(self._modules)[index % len(self)]

    def _from_items(self, items: list) -> "_ModuleSequence":
        raise NotImplementedError

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "_ModuleSequence":
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order; indexable (a slice is a Sequential), iterable, with a length.

    A dict argument names the modules: `Sequential({"conv": ..., "relu": ...})`.

    >>> from nn import Linear, ReLU
    >>> net = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    >>> len(net), type(net[1]).__name__, len(net[:2]), net(np.ones((5, 3), np.float32)).shape
    (3, 'ReLU', 2, (5, 2))
    """

    def __init__(self, *modules: Module):
        super().__init__()
        named = modules[0] if len(modules) == 1 and isinstance(modules[0], dict) else dict(enumerate(modules))
        for name, module in named.items():
            self.add_module(str(name), module)

    def _from_items(self, items: list) -> "Sequential":
        return type(self)(dict(items))  # a slice keeps the original names, as in PyTorch

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (as `0.weight`, `1.weight`, ...).

    >>> from nn import Linear
    >>> layers = ModuleList([Linear(2, 2)]).append(Linear(2, 1)); len(layers), len(list(layers.parameters()))
    (2, 4)
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        self.extend(modules or ())

    def _from_items(self, items: list) -> "ModuleList":
        return ModuleList(module for _, module in items)

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList: has no forward; iterate over it in the parent's forward")
