"""The multi-rank checks, run by every rank: `mpirun -np 2 python -m tests.nn.distributed_ranks [check ...]`.

Each check asserts; a failing assertion on any rank ends every rank through nn.distributed's abort, so
mpirun exits non-zero. Rank 0 prints `ok <check>` after each check that passed on every rank.
test_distributed_mpi.py launches this; `.ci/run` too. `raise` is the failure drill: rank 1 raises while
rank 0 waits in a barrier that would otherwise never end.
"""

import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import optim
from nn import distributed
from nn.parallel import DistributedDataParallel
from tests.optim.test_sweeps import CONFIGS as SWEEP_CONFIGS
from tests.optim.test_sweeps import build as sweep_build

GLOBAL_BATCH, STEPS = 16, 6


def conv_net(seed: int) -> nn.Sequential:
    ag.manual_seed(seed)
    f64 = dict(dtype=np.float64)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, **f64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, 10, **f64),
        nn.Tanh(),
        nn.Linear(10, 4, **f64),
    )


def images(n: int, seed: int = 7) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 8, 8)), rng.integers(0, 4, n)


def flat_parameters(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.value.ravel() for p in model.parameters()])


def train(model: nn.Module, shares: list) -> list:
    """STEPS of SGD with momentum and weight decay, one (X, y) share per step; returns the losses."""
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    losses = []
    for X, y in shares:
        opt.zero_grad()
        loss = ag.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def check_collectives(rank: int, size: int) -> None:
    values = np.array([rank + 1.0, -(rank + 1.0)])
    expected = {"sum": [3.0, -3.0], "mean": [1.5, -1.5], "max": [2.0, -1.0], "min": [1.0, -2.0]}
    for op, result in expected.items():
        assert distributed.all_reduce(values.copy(), op=op).tolist() == result, op
    work = distributed.all_reduce(np.full(3, float(rank)), op="mean", async_op=True)
    assert work.wait().tolist() == [0.5] * 3
    assert distributed.broadcast(np.array([rank, rank]), src=1).tolist() == [1, 1]
    assert [a.tolist() for a in distributed.all_gather(np.array([rank, 10 * rank]))] == [[0, 0], [1, 10]]
    assert distributed.all_gather_object({"rank": rank}) == [{"rank": 0}, {"rank": 1}]


def check_ddp_equals_one_process(rank: int, size: int) -> None:
    """Each rank on half of every global batch == one process on the whole batch, after STEPS updates."""
    X, y = images(GLOBAL_BATCH * STEPS)
    batches = [slice(k * GLOBAL_BATCH, (k + 1) * GLOBAL_BATCH) for k in range(STEPS)]
    reference = train(conv_net(seed=0), [(X[b], y[b]) for b in batches])
    whole = conv_net(seed=0)
    train(whole, [(X[b], y[b]) for b in batches])
    for bucket_cap_mb in (4.0, 1e-6):  # one bucket; one parameter per bucket
        model = DistributedDataParallel(conv_net(seed=rank), bucket_cap_mb=bucket_cap_mb)  # rank 0's weights win
        assert len(model._reducer.buckets) == (1 if bucket_cap_mb > 1 else 6)
        losses = train(model, [(X[b][rank::size], y[b][rank::size]) for b in batches])
        mean_losses = distributed.all_reduce(np.array(losses), op="mean")
        np.testing.assert_allclose(mean_losses, reference, rtol=1e-13)
        mine = flat_parameters(model.module)
        np.testing.assert_allclose(mine, flat_parameters(whole), rtol=1e-12, atol=1e-14)
        gathered = distributed.all_gather(mine)
        assert all(np.array_equal(gathered[0], other) for other in gathered[1:]), "ranks' parameters differ"
        if rank == 0:
            error = np.abs(mine - flat_parameters(whole)).max()
            print(f"ddp bucket_cap_mb={bucket_cap_mb}: max |2 ranks - 1 process| = {error:.1e}", flush=True)


class Branches(nn.Module):
    """`always` is used on every rank, `sometimes` on rank 0 only, `never` on none."""

    def __init__(self):
        super().__init__()
        f64 = dict(dtype=np.float64)
        self.always, self.sometimes, self.never = nn.Linear(3, 2, **f64), nn.Linear(3, 2, **f64), nn.Linear(3, 2, **f64)

    def forward(self, x, take_sometimes: bool):
        out = self.always(x)
        return out + self.sometimes(x) if take_sometimes else out


def check_unused_parameters(rank: int, size: int) -> None:
    ag.manual_seed(rank)
    model = DistributedDataParallel(Branches(), find_unused_parameters=True)
    plain = copy.deepcopy(model.module)  # rank 0's weights, without hooks
    X = np.arange(12.0).reshape(4, 3) * (rank + 1)
    model(X, take_sometimes=rank == 0).sum().backward()
    plain(np.arange(12.0).reshape(4, 3), take_sometimes=True).sum().backward()  # rank 0's own gradient
    sometimes = model.module.sometimes.weight.grad
    np.testing.assert_allclose(sometimes, plain.sometimes.weight.grad / size)  # rank 1 counted as zeros
    gathered = distributed.all_gather(sometimes)
    assert np.array_equal(gathered[0], gathered[1])
    assert model.module.never.weight.grad is None and model.module.never.bias.grad is None


def check_buffers_follow_rank_zero(rank: int, size: int) -> None:
    ag.manual_seed(rank)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    norm = model.module[1]
    norm.running_mean[...] = rank + 5.0  # the ranks' statistics drift apart
    model(np.ones((6, 3), np.float32) * np.arange(6, dtype=np.float32)[:, None])  # the same batch everywhere
    gathered = distributed.all_gather(norm.running_mean)
    assert np.array_equal(gathered[0], gathered[1]), "forward did not start from rank 0's buffers"
    if rank == 0:  # eval forward talks to no one: rank 0 may evaluate alone
        model.eval()(np.ones((2, 3), np.float32))
    distributed.barrier()


def check_sampler_shards(rank: int, size: int) -> None:
    """Through a DataLoader, each rank's DistributedSampler share: disjoint, together the whole data set."""
    n = 21
    data = nn.data.TensorDataset(np.arange(n))
    for drop_last in (False, True):
        sampler = nn.data.DistributedSampler(data, seed=3, drop_last=drop_last)  # world size and rank by default
        loader = nn.data.DataLoader(data, batch_size=4, sampler=sampler)
        orders = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            mine = [int(i) for (batch,) in loader for i in batch]
            shares = distributed.all_gather_object(mine)
            assert len({len(share) for share in shares}) == 1, "unequal shares"
            taken = [i for share in shares for i in share]
            if drop_last:
                assert len(set(taken)) == len(taken) == n - n % size, shares
            else:
                assert set(taken) == set(range(n)) and len(taken) == n + (-n) % size, shares
            orders.append(shares)
        assert orders[0] != orders[1], "set_epoch must give a new order"


def check_solver(rank: int, size: int) -> None:
    """A Solver on a distributed model == the same Solver alone; rank 0 alone writes; resuming is exact."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((56, 4)), rng.integers(0, 3, 56)
    data = dict(X_train=X[:40], y_train=y[:40], X_val=X[40:], y_val=y[40:])

    def mlp(seed):
        ag.manual_seed(seed)
        return nn.Sequential(nn.Linear(4, 8, dtype=np.float64), nn.Tanh(), nn.Linear(8, 3, dtype=np.float64))

    options = dict(update_rule="sgd_momentum", num_epochs=3, batch_size=8, verbose=False, seed=5)
    alone = optim.Solver(mlp(0), data, **options)
    alone.train()
    folder = Path(distributed.broadcast_object(tempfile.mkdtemp() if rank == 0 else None))
    saves = []
    save = nn.save
    nn.save = lambda *args: saves.append(args[1]) or save(*args)
    try:
        solver = optim.Solver(
            DistributedDataParallel(mlp(rank)), data, checkpoint_path=folder / "{epoch}.npz", **options
        )
        solver.train()
    finally:
        nn.save = save
    np.testing.assert_allclose(solver.loss_history, alone.loss_history, rtol=1e-12)
    assert solver.val_acc_history == alone.val_acc_history and solver.train_acc_history == alone.train_acc_history
    np.testing.assert_allclose(flat_parameters(solver.model.module), flat_parameters(alone.model), rtol=1e-12)
    assert distributed.all_gather_object(len(saves)) == [3, 0], "rank 0 alone writes the checkpoints"
    resumed = optim.Solver.resume(folder / "1.npz", DistributedDataParallel(mlp(rank + 10)), data, **options)
    resumed.train()
    assert resumed.loss_history == solver.loss_history
    assert np.array_equal(flat_parameters(resumed.model.module), flat_parameters(solver.model.module))


def check_sweep(rank: int, size: int) -> None:
    """Configurations spread over the ranks give the numbers each gives alone; rank 0 writes the table."""
    folder = Path(distributed.broadcast_object(tempfile.mkdtemp() if rank == 0 else None))
    records = optim.sweep(sweep_build, SWEEP_CONFIGS, out=folder, verbose=False)
    assert [r["worker"] for r in records] == [f"rank {i % size}" for i in range(len(SWEEP_CONFIGS))]
    for record, config in zip(records, SWEEP_CONFIGS):
        alone = optim.run_config(sweep_build, config)
        assert record["config"] == config and record["loss_history"] == alone["loss_history"]
        assert record["val_acc_history"] == alone["val_acc_history"]
    with open(folder / "sweep.csv") as file:
        assert len(file.read().splitlines()) == 1 + len(SWEEP_CONFIGS)


def check_on_rank_zero_writes_once(rank: int, size: int) -> None:
    folder = Path(distributed.broadcast_object(tempfile.mkdtemp() if rank == 0 else None))
    path = folder / "checkpoint.txt"

    def slow_write(text):
        time.sleep(0.3)  # the others would read too early if they did not wait
        path.write_text(text)
        return "written"

    assert distributed.on_rank_zero(slow_write, "rank 0's") == ("written" if rank == 0 else None)
    assert path.read_text() == "rank 0's"
    try:
        distributed.on_rank_zero(lambda: 1 / 0)
    except (ZeroDivisionError, RuntimeError) as error:
        expected = ZeroDivisionError if rank == 0 else RuntimeError
        assert type(error) is expected and (rank == 0 or "rank 0 failed in" in str(error)), error
    else:
        raise AssertionError("on_rank_zero: a failure on rank 0 must raise on every rank")


def check_raise(rank: int, size: int) -> None:
    if rank == 1:
        raise ValueError("deliberate failure on rank 1")
    distributed.barrier()  # rank 1 never comes: only the abort ends this


CHECKS = {
    "collectives": check_collectives,
    "ddp": check_ddp_equals_one_process,
    "unused": check_unused_parameters,
    "buffers": check_buffers_follow_rank_zero,
    "sampler": check_sampler_shards,
    "solver": check_solver,
    "sweep": check_sweep,
    "on_rank_zero": check_on_rank_zero_writes_once,
}


def main(names: list) -> int:
    distributed.init()
    rank, size = distributed.get_rank(), distributed.get_world_size()
    if size != 2:
        raise SystemExit(f"distributed_ranks: run under mpirun -np 2, got a world of {size}")
    for name in names or CHECKS:
        {**CHECKS, "raise": check_raise}[name](rank, size)
        distributed.barrier()
        if rank == 0:
            print(f"ok {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
