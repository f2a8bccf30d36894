"""nn.distributed as a world of one (outside mpirun): every call works and leaves arrays as a single rank would.

The multi-rank behaviour is tested by test_distributed_mpi.py, which launches mpirun.
"""

import sys

import numpy as np
import pytest

from nn import distributed


def test_outside_a_launcher_the_world_is_this_process_without_mpi(monkeypatch):
    for name in distributed._LAUNCHER_SIZES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(distributed, "_world", None)
    assert not distributed.is_initialized()
    assert (distributed.get_rank(), distributed.get_world_size(), distributed.backend()) == (0, 1, "none")
    assert distributed.is_initialized()


def test_launched_as_several_processes_without_mpi4py_is_an_error_naming_the_install(monkeypatch):
    monkeypatch.setattr(distributed, "_world", None)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` raise ImportError
    with pytest.raises(RuntimeError, match=r"launched as 2 processes but mpi4py is missing; pip install"):
        distributed.init()
    assert not distributed.is_initialized()


@pytest.mark.parametrize("op", distributed.REDUCE_OPS)
def test_collectives_of_one_rank_return_the_array_itself(op):
    array = np.array([1.5, -2.0, 3.0])
    assert distributed.all_reduce(array, op=op) is array
    np.testing.assert_array_equal(array, [1.5, -2.0, 3.0])
    work = distributed.all_reduce(array, op=op, async_op=True)
    assert work.is_completed() and work.wait() is array
    assert distributed.broadcast(array, src=0) is array
    (gathered,) = distributed.all_gather(array)
    np.testing.assert_array_equal(gathered, array)
    assert gathered is not array
    assert distributed.broadcast_object({"a": 1}) == {"a": 1} and distributed.all_gather_object(3) == [3]
    distributed.barrier()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: distributed.all_reduce([1.0, 2.0]), TypeError, "all_reduce: expected a numpy array, got list"),
        (lambda: distributed.all_reduce(np.ones(2), op="prod"), ValueError, "op must be one of"),
        (lambda: distributed.all_reduce(np.ones(2, np.int64), op="mean"), TypeError, "float array.*int64"),
        (lambda: distributed.broadcast(np.array(["a"])), TypeError, "numeric array, got dtype <U1"),
        (lambda: distributed.broadcast(np.ones(2), src=1), ValueError, r"src must be a rank in \[0, 1\), got 1"),
        (lambda: distributed.broadcast_object(1, src=-1), ValueError, "src must be a rank"),
    ],
)
def test_bad_arguments_say_where_what_was_expected_and_what_came(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_collectives_take_strided_views():
    array = np.arange(12.0).reshape(3, 4).T  # a transposed weight's layout
    assert distributed.all_reduce(array, op="mean") is array and distributed.broadcast(array) is array
    np.testing.assert_array_equal(distributed.all_gather(array[1])[0], [1.0, 5.0, 9.0])


def test_an_in_place_collective_refuses_a_read_only_array():
    array = np.ones(3)
    array.flags.writeable = False
    with pytest.raises(ValueError, match=r"all_reduce: the array is written in place but is read-only \(shape"):
        distributed.all_reduce(array)
    assert len(distributed.all_gather(array)) == 1  # reading is fine


def test_on_rank_zero_runs_the_function_and_passes_on_its_result_and_errors(tmp_path):
    path = tmp_path / "written.txt"
    assert distributed.on_rank_zero(path.write_text, "once") == 4
    assert path.read_text() == "once"
    with pytest.raises(ZeroDivisionError):
        distributed.on_rank_zero(lambda: 1 / 0)


def test_launched_size_reads_open_mpi_and_hydra_variables(monkeypatch):
    for name in distributed._LAUNCHER_SIZES:
        monkeypatch.delenv(name, raising=False)
    assert distributed.launched_size() is None
    monkeypatch.setenv("PMI_SIZE", "4")
    assert distributed.launched_size() == 4
