"""Processes that train together: the world (rank, size), collectives on numpy arrays over MPI, failures.

Launch N copies of a script with `mpirun -np N python script.py`; with mpi4py installed
(`pip install -e ".[distributed]"`) they form one world, ranks 0 to N - 1, and these functions move numpy
arrays between them. Outside mpirun, or without mpi4py, the world is this one process: rank 0 of 1, every
collective leaves its array as it is, and the code that uses them runs unchanged.

    ranks = get_world_size()                   # 1 outside mpirun
    all_reduce(grad, op="mean")                # in place: the mean over ranks
    work = all_reduce(bucket, async_op=True)   # MPI_Iallreduce: compute on, then work.wait()

The first function that needs the world calls `init()`, which (for more than one process) also makes an
uncaught exception on any rank end every rank through MPI_Abort, instead of leaving the others waiting
forever in their next collective (`sys.exit(code)` on one rank raises no exception to catch: raise one, or
use `python -m mpi4py script.py`, which aborts on any exit code but 0). Collectives must be called by every
rank in the same order, with arrays of the same shape and dtype: MPI's rule, not checked here.
"""

import os
import sys
from collections.abc import Callable

import numpy as np

REDUCE_OPS = ("sum", "mean", "max", "min")
# What launchers set in each process they start: Open MPI, then MPICH's and Intel MPI's Hydra.
_LAUNCHER_SIZES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
_INSTALL = 'pip install -e ".[distributed]" (mpi4py, over an MPI such as apt\'s openmpi-bin and libopenmpi-dev)'

_world = None


class Work:
    """A collective started with `async_op=True`: `wait()` blocks until it is done and returns its array.

    In a world of one it is done from the start.
    """

    def __init__(self, array: np.ndarray, request=None, finish: Callable | None = None):
        self._array, self._request, self._finish = array, request, finish

    def is_completed(self) -> bool:
        """Whether the collective has finished (asking also lets MPI progress it), without blocking."""
        return self._request is None or self._request.Test()

    def wait(self) -> np.ndarray:
        if self._request is not None:
            self._request.Wait()
            self._request = None
        if self._finish is not None:
            self._finish()
            self._finish = None
        return self._array


class _Solo:
    """The world of one process: what every function uses outside mpirun or without mpi4py."""

    rank, size, backend = 0, 1, "none"

    def barrier(self) -> None:
        pass

    def broadcast(self, array: np.ndarray, src: int) -> None:
        pass

    def all_reduce(self, array: np.ndarray, op: str):
        return None  # the reduction over one rank is the array itself

    def all_gather(self, array: np.ndarray) -> list:
        return [array.copy()]

    def broadcast_object(self, obj, src: int):
        return obj

    def all_gather_object(self, obj) -> list:
        return [obj]


class _MPIWorld:
    """MPI_COMM_WORLD through mpi4py's buffer interface (numpy arrays travel without pickling)."""

    backend = "mpi"

    def __init__(self, MPI):
        self.MPI, self.comm = MPI, MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.ops = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}

    def barrier(self) -> None:
        self.comm.Barrier()

    def broadcast(self, array: np.ndarray, src: int) -> None:
        self.comm.Bcast(array, root=src)

    def all_reduce(self, array: np.ndarray, op: str):
        return self.comm.Iallreduce(self.MPI.IN_PLACE, array, op=self.ops[op])

    def all_gather(self, array: np.ndarray) -> list:
        gathered = np.empty((self.size, *array.shape), array.dtype)
        self.comm.Allgather(array, gathered)
        return list(gathered)

    def broadcast_object(self, obj, src: int):
        return self.comm.bcast(obj, root=src)

    def all_gather_object(self, obj) -> list:
        return self.comm.allgather(obj)

    def abort(self, code: int) -> None:
        self.comm.Abort(code)


def launched_size() -> int | None:
    """How many processes an MPI launcher (mpirun, mpiexec) started with this one, or None outside one."""
    for name in _LAUNCHER_SIZES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return None


def init() -> None:
    """Join the world: MPI's when launched by mpirun with mpi4py installed, else a world of one. Idempotent.

    Outside a launcher MPI is not even imported, so a plain run or a test suite never initializes it.
    For more than one process, an uncaught exception on any rank then ends them all (MPI_Abort, exit
    code 1) once its traceback is printed.

    Raises:
        RuntimeError: launched as more than one process but mpi4py is missing (each would otherwise train
            alone, as if it were the only one, and all would write the same files).
    """
    global _world
    if _world is not None:
        return
    size = launched_size()
    if size is None:
        _world = _Solo()
        return
    try:
        from mpi4py import MPI  # optional: only under a launcher; importing it initializes MPI
    except ImportError:
        if size > 1:
            raise RuntimeError(
                f"nn.distributed.init: launched as {size} processes but mpi4py is missing; {_INSTALL}"
            ) from None
        _world = _Solo()
        return
    _world = _MPIWorld(MPI)
    if _world.size > 1:
        _abort_on_uncaught_exceptions(_world)


def _abort_on_uncaught_exceptions(world: _MPIWorld) -> None:
    """Make an exception that ends this rank end every rank, instead of leaving them in a collective forever."""
    previous = sys.excepthook

    def abort_all(kind, value, traceback) -> None:
        previous(kind, value, traceback)  # the traceback first, so the failing rank says why
        print(f"nn.distributed: rank {world.rank} of {world.size} failed; aborting every rank", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        world.abort(1)

    sys.excepthook = abort_all


def is_initialized() -> bool:
    """Whether `init()` has run (explicitly or through the first function that needed the world)."""
    return _world is not None


def _get_world():
    if _world is None:
        init()
    return _world


def get_rank() -> int:
    """This process's rank, 0 to get_world_size() - 1 (0 in a world of one)."""
    return _get_world().rank


def get_world_size() -> int:
    """The number of processes in the world (1 outside mpirun)."""
    return _get_world().size


def backend() -> str:
    """'mpi', or 'none' for a world of one without MPI."""
    return _get_world().backend


def barrier() -> None:
    """Wait until every rank has called barrier()."""
    _get_world().barrier()


def _check_array(where: str, array, writes: bool) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{where}: expected a numpy array, got {type(array).__name__}")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"{where}: expected a numeric array, got dtype {array.dtype}")
    if writes and not array.flags.writeable:
        raise ValueError(f"{where}: the array is written in place but is read-only (shape {array.shape})")


def _check_rank(where: str, src) -> None:
    size = get_world_size()
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)) or not 0 <= src < size:
        raise ValueError(f"{where}: src must be a rank in [0, {size}), got {src!r}")


def broadcast(array: np.ndarray, src: int = 0) -> np.ndarray:
    """Copy rank `src`'s array into every rank's `array`, in place; returns it.

    >>> broadcast(np.arange(3.0)).tolist()
    [0.0, 1.0, 2.0]
    """
    _check_array("broadcast", array, writes=True)
    _check_rank("broadcast", src)
    buffer = np.ascontiguousarray(array)  # MPI sends and receives memory in one piece (a transposed view is not)
    _get_world().broadcast(buffer, src)
    if buffer is not array:
        np.copyto(array, buffer)
    return array


def all_reduce(array: np.ndarray, op: str = "sum", async_op: bool = False):
    """Reduce `array` over every rank, in place: the sum, mean, max or min of the ranks' arrays.

    Args:
        array: a numeric array, of the same shape and dtype on every rank ("mean" needs floats).
        op: "sum", "mean", "max" or "min".
        async_op: start the reduction (MPI_Iallreduce) and return a `Work` at once; `work.wait()` finishes it.
    Returns:
        The array, reduced; or a Work with async_op.

    >>> all_reduce(np.array([1.0, 4.0]), op="mean").tolist()
    [1.0, 4.0]
    """
    _check_array("all_reduce", array, writes=True)
    if op not in REDUCE_OPS:
        raise ValueError(f"all_reduce: op must be one of {REDUCE_OPS}, got {op!r}")
    if op == "mean" and array.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: op='mean' needs a float array to hold the mean, got dtype {array.dtype}")
    world = _get_world()
    buffer = np.ascontiguousarray(array)  # see broadcast

    def finish() -> None:
        if op == "mean" and world.size > 1:
            np.divide(buffer, world.size, out=buffer)
        if buffer is not array:
            np.copyto(array, buffer)

    work = Work(array, world.all_reduce(buffer, op), finish)
    return work if async_op else work.wait()


def all_gather(array: np.ndarray) -> list:
    """Every rank's `array` (same shape and dtype on all), as a list indexed by rank.

    >>> all_gather(np.array([7, 8]))
    [array([7, 8])]
    """
    _check_array("all_gather", array, writes=False)
    return _get_world().all_gather(np.ascontiguousarray(array))


def broadcast_object(obj, src: int = 0):
    """Rank `src`'s picklable object, on every rank."""
    _check_rank("broadcast_object", src)
    return _get_world().broadcast_object(obj, src)


def all_gather_object(obj) -> list:
    """Every rank's picklable object, as a list indexed by rank."""
    return _get_world().all_gather_object(obj)


def on_rank_zero(fn: Callable, *args, **kwargs):
    """Run `fn(*args, **kwargs)` on rank 0 while the others wait: writing a checkpoint or a report once.

    Returns fn's result on rank 0 and None on the others. If fn raises on rank 0, it raises there and
    every other rank raises a RuntimeError naming the error, so no rank waits for a file that never came.

    >>> on_rank_zero(lambda x: x + 1, 41)
    42
    """
    world = _get_world()
    if world.size == 1:
        return fn(*args, **kwargs)
    result = error = None
    if world.rank == 0:
        try:
            result = fn(*args, **kwargs)
        except Exception as caught:  # told to the other ranks, then raised here
            error = caught
    failure = world.broadcast_object(None if error is None else f"{type(error).__name__}: {error}", 0)
    if error is not None:
        raise error
    if failure is not None:
        name = getattr(fn, "__qualname__", repr(fn))
        raise RuntimeError(f"on_rank_zero: rank 0 failed in {name}: {failure}")
    return result
