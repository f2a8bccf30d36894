"""record_scopes: which module made each op, so graph drawings can box a model's ops by layer.

Inside `with record_scopes(model) as scopes:`, a forward hook on every submodule claims the OpNodes its
forward produced for the module's dotted path (`features.0`). Children's hooks fire before their
parent's, so the innermost module wins and a parent claims only what is left: its own ops between and
around its children's. `scopes.clusters` is the mapping `autograd.viz.to_dot(..., clusters=...)` takes.
"""

from autograd import OpNode, TensorNode
from nn.module import Module


def _tensors(value) -> list:
    """The TensorNodes in `value`: a tensor, or tuples, lists and dict values holding them (any depth)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, TensorNode):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


class record_scopes:
    """Map every op recorded inside a submodule's forward to that module's dotted path.

    Each hook walks back from the module's output through `OpNode.parents` with an explicit stack,
    stopping at the ops that produced the module's inputs. An op already claimed by a child is not
    taken, but the walk jumps over that child's call to the child's inputs, so a parent also finds its
    own ops that come before a child (`y = x * 2; z = child(y)`). The root module claims nothing: ops
    in the model's own forward stay outside every box. Hooks are removed when the block ends; the
    mapping keeps growing over every forward run inside it.

    Args:
        model: the nn.Module whose submodules are watched.

    Attributes:
        clusters: dict OpNode -> dotted module path, for `to_dot(..., clusters=scopes.clusters)`.

    Raises:
        TypeError: `model` is not an nn.Module.

    >>> import numpy as np, nn
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    >>> with nn.record_scopes(net) as scopes:
    ...     out = net(np.ones((2, 3), np.float32))
    >>> sorted((node.op.__name__, path) for node, path in scopes.clusters.items())
    [('Linear', '0'), ('ReLU', '1')]
    """

    def __init__(self, model: Module):
        if not isinstance(model, Module):
            raise TypeError(f"record_scopes: model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.clusters: dict[OpNode, str] = {}
        # id(output op of a module call) -> the ops that produced that call's inputs: how a parent's
        # walk steps over a child's claimed ops without walking through them.
        self._jumps: dict[int, tuple] = {}
        self._handles = []

    def __enter__(self) -> "record_scopes":
        for path, module in self.model.named_modules():
            if path:
                self._handles.append(module.register_forward_hook(self._hook_for(path)))
        return self

    def __exit__(self, *exc) -> bool:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False

    def _hook_for(self, path: str):
        def hook(module, inputs, output):
            self._claim(path, inputs, output)

        return hook

    def _claim(self, path: str, inputs, output) -> None:
        stops = {id(t.source) for t in _tensors(inputs) if t.source is not None}
        input_sources = tuple(t.source for t in _tensors(inputs) if t.source is not None)
        roots = [t.source for t in _tensors(output) if t.source is not None]
        seen = set()
        stack = list(roots)
        while stack:
            node = stack.pop()
            if node is None or id(node) in stops or id(node) in seen:
                continue
            seen.add(id(node))
            if node in self.clusters:
                # A child's op: take nothing of it, but continue from the child's inputs, which may be
                # this module's own ops.
                stack.extend(self._jumps.get(id(node), ()))
                continue
            self.clusters[node] = path
            stack.extend(node.parents)
        for node in roots:
            if node in self.clusters:  # claimed here or by a child, so kept alive and its id stays unique
                self._jumps[id(node)] = input_sources
