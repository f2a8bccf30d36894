"""DistributedDataParallel: one model per rank, each on its share of the batch, averaging gradients in backward.

Every rank runs this script on its own slice of each global batch (`nn.data.DistributedSampler`); the
wrapped model starts from rank 0's parameters and, as backward computes gradients, sends them to be
averaged over the ranks in flat buckets, so that when `loss.backward()` returns every rank holds the same
`.grad` and the optimizers take the same step:

    backward:  ... grads of the last layers ready -> bucket 0 full -> Iallreduce(bucket 0) ...
               ... grads of the first layers ready -> bucket 1 full -> Iallreduce(bucket 1)
    end of backward: wait for every bucket, divide by the world size, copy back into each .grad

Parameters go into buckets last layer first (the order backward finishes them in), up to `bucket_cap_mb`
each, one dtype per bucket. A bucket's all-reduce starts as soon as its last gradient is final (a
post-accumulate-grad hook) and every bucket before it has started: MPI needs the same order of
collectives on every rank, whatever order gradients came in. Open MPI moves a nonblocking collective only
while the process is inside MPI, so the overlap with backward is what the hooks' progress calls allow.
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np

import autograd
from nn import distributed
from nn.module import Module, write_

BUCKET_CAP_MB = 4.0


class _Bucket:
    """Consecutive parameters of one dtype whose gradients travel in one flat array."""

    def __init__(self, params: list, dtype):
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params])
        self.flat = np.empty(self.offsets[-1], dtype)
        self.missing = len(params)  # gradients not yet copied in, in this backward
        self.work = None

    def slot(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i] : self.offsets[i + 1]]


def _buckets(params: list, cap_bytes: float) -> list:
    """Split `params` (in the order their gradients are expected) into buckets of at most cap_bytes."""
    buckets, current, size = [], [], 0
    for p in params:
        nbytes = p.value.nbytes
        if current and (p.dtype != current[0].dtype or size + nbytes > cap_bytes):
            buckets.append(_Bucket(current, current[0].dtype))
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current, current[0].dtype))
    return buckets


def _broadcast_from_rank_zero(targets: list) -> None:
    """Give every rank rank 0's values of `targets` (parameters or buffers): one broadcast per dtype."""
    arrays = [t.value if isinstance(t, autograd.TensorNode) else t for t in targets]
    for dtype in sorted({a.dtype.str for a in arrays}):  # sorted: every rank must broadcast in the same order
        group = [(t, a) for t, a in zip(targets, arrays) if a.dtype.str == dtype]
        flat = distributed.broadcast(np.concatenate([a.ravel() for _, a in group]))
        start = 0
        for target, a in group:
            write_(target, flat[start : start + a.size].reshape(a.shape))  # bumps a parameter's version
            start += a.size


def _grad_ready(reducer_ref, param) -> None:
    """The post-accumulate-grad hook of every parameter (weakly bound: a hook must not keep its model alive)."""
    reducer = reducer_ref()
    if reducer is not None:
        reducer.grad_ready(param)


class _Reducer:
    """Fills the buckets as gradients come, starts their all-reduces in order, and finishes backward."""

    def __init__(self, named_params: list, cap_bytes: float, find_unused: bool):
        self.names = {id(p): name for name, p in named_params}
        self.buckets = _buckets([p for _, p in reversed(named_params)], cap_bytes)
        self.where = {id(p): (b, i) for b in self.buckets for i, p in enumerate(b.params)}
        self.find_unused, self.enabled = find_unused, True
        # In a world of one the mean is .grad itself: the buckets still start and finish in order, but no
        # gradient is copied in or out (that cost 0.5 ms of a 14 ms MNIST CNN step).
        self.copies = distributed.get_world_size() > 1
        hook = partial(_grad_ready, weakref.ref(self))
        for _, p in named_params:
            p.register_post_accumulate_grad_hook(hook)
        self.reset()

    def reset(self) -> None:
        """Forget a backward that did not finish (it raised), so the next one starts clean."""
        self.reported, self.next_bucket, self.armed = set(), 0, False
        for bucket in self.buckets:
            bucket.missing, bucket.work = len(bucket.params), None

    def grad_ready(self, param) -> None:
        if not self.enabled:
            return
        if not self.armed:
            self.armed = True
            autograd.queue_callback(self.finish)
        bucket, i = self.where[id(param)]
        if self.copies:
            np.copyto(bucket.slot(i).reshape(param.shape), param.grad)  # one pass even from a transposed layout
        self.reported.add(id(param))
        bucket.missing -= 1
        self.launch_ready()

    def launch_ready(self) -> None:
        """Start the all-reduce of every full bucket whose predecessors have all started; let MPI progress."""
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].missing == 0:
            bucket = self.buckets[self.next_bucket]
            bucket.work = distributed.all_reduce(bucket.flat, op="mean", async_op=True)
            self.next_bucket += 1
        for bucket in self.buckets[: self.next_bucket]:
            bucket.work.is_completed()

    def finish(self) -> None:
        """End of backward: the unused parameters' turn, wait for every bucket, and write the means into .grad."""
        unused = [p for b in self.buckets for p in b.params if id(p) not in self.reported]
        if unused and not self.find_unused:
            names = [name for key, name in self.names.items() if key not in self.reported]  # in module order
            self.reset()
            raise RuntimeError(
                f"DistributedDataParallel: parameters {names} got no gradient in this backward; every rank must give "
                "every parameter one, or pass find_unused_parameters=True (a missing gradient then counts as zeros)"
            )
        for p in unused:
            bucket, i = self.where[id(p)]
            bucket.slot(i)[...] = 0 if p.grad is None else p.grad.ravel()
            bucket.missing -= 1
        self.launch_ready()
        used = np.array([p.grad is not None for b in self.buckets for p in b.params], np.int64)
        if self.find_unused:  # the same on every rank, so every rank makes this call or none does
            distributed.all_reduce(used, op="max")  # a parameter no rank has a gradient for keeps .grad None
        for bucket in self.buckets:
            bucket.work.wait()
        if self.copies:
            self.write_back(used)
        self.reset()

    def write_back(self, used: np.ndarray) -> None:
        index = 0
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                mean = bucket.slot(i).reshape(p.shape)
                if used[index] and (p.grad is None or not p.grad.flags.writeable):
                    p.grad = mean.copy()
                elif used[index]:
                    np.copyto(p.grad, mean)
                index += 1


class DistributedDataParallel(Module):
    """Train `module` on every rank at once, each on its part of the batch, with gradients averaged in backward.

    At construction every rank takes rank 0's parameters and buffers. After `loss.backward()` returns,
    every parameter's `.grad` on every rank is the mean over ranks of the ranks' `.grad` (an all-reduce of
    flat buckets started during backward): with the loss a mean over each rank's equal share of a global
    batch, exactly the gradient of the mean loss over the global batch. A second backward before the
    step, or gradients accumulated under `no_sync()`, are averaged as they stand in `.grad`.

    Args:
        module: the model; reach it (and its state) as `.module`, state_dict keys get a "module." prefix.
        bucket_cap_mb: the size of a bucket of gradients sent at once.
        find_unused_parameters: allow a rank's backward to give some parameters no gradient (a branch not
            taken): its missing `.grad` counts as zeros in the mean, and a parameter without a gradient on
            every rank keeps `.grad` None. Without it, such a backward raises a RuntimeError naming them
            (which, under mpirun, ends every rank).
        broadcast_buffers: before each forward in training mode, give every rank rank 0's buffers (batch
            norm's running statistics), as PyTorch does by default; each rank's batch statistics still
            normalize its own share. Forward in eval mode does no communication, so rank 0 may evaluate alone.

    Every rank must run the same number of forward and backward passes: each backward's all-reduces wait
    for their partners on the other ranks.

    >>> import nn
    >>> model = DistributedDataParallel(nn.Linear(3, 2))      # a world of one outside mpirun
    >>> model(np.ones((4, 3), np.float32)).sum().backward()
    >>> model.module.bias.grad.tolist()
    [4.0, 4.0]
    """

    def __init__(
        self,
        module: Module,
        bucket_cap_mb: float = BUCKET_CAP_MB,
        find_unused_parameters: bool = False,
        broadcast_buffers: bool = True,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        distributed.init()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        _broadcast_from_rank_zero([p for _, p in named])
        self._sync_buffers()
        self._reducer = _Reducer(named, bucket_cap_mb * 2**20, find_unused_parameters)

    def _sync_buffers(self) -> None:
        buffers = [b for b in self.module.buffers() if np.size(b)]
        if buffers and distributed.get_world_size() > 1:
            _broadcast_from_rank_zero(buffers)

    def forward(self, *args, **kwargs):
        if self.training and self.broadcast_buffers:
            self._sync_buffers()
        self._reducer.reset()
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward inside this block only accumulates `.grad` locally; the next backward outside averages it all."""
        self._reducer.enabled = False
        try:
            yield
        finally:
            self._reducer.enabled = True

    def extra_repr(self) -> str:
        return f"world_size={distributed.get_world_size()}, buckets={len(self._reducer.buckets)}"
