"""The Optimizer base: argument checks, param groups, skipping, dtypes, zero_grad, closures and state_dict."""

import re

import numpy as np
import pytest

import autograd as ag
import optim
from tests.optim.cases import PARAMS, gradient_sequence, groups, make_params, run

ALL = [optim.SGD, optim.RMSprop, optim.Adadelta, optim.Adagrad, optim.Adam, optim.AdamW]


def _param(shape=(2,), dtype=np.float64):
    return ag.tensor(np.ones(shape, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize(
    "optimizer_class, options, name",
    [
        (optim.SGD, dict(lr=-0.1), "lr"),
        (optim.SGD, dict(momentum=-0.5), "momentum"),
        (optim.SGD, dict(weight_decay=-1e-4), "weight_decay"),
        (optim.SGD, dict(lr=float("nan")), "lr"),
        (optim.SGD, dict(nesterov=True), "nesterov"),
        (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov"),
        (optim.RMSprop, dict(alpha=-0.1), "alpha"),
        (optim.RMSprop, dict(eps=-1e-8), "eps"),
        (optim.RMSprop, dict(momentum=-0.1), "momentum"),
        (optim.Adadelta, dict(rho=1.5), "rho"),
        (optim.Adadelta, dict(rho=-0.1), "rho"),
        (optim.Adagrad, dict(lr_decay=-0.1), "lr_decay"),
        (optim.Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
        (optim.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
        (optim.Adam, dict(betas=(0.9,)), "betas"),
        (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
        (optim.AdamW, dict(eps=-1.0), "eps"),
    ],
)
def test_invalid_options_raise_value_error_naming_them(optimizer_class, options, name):
    with pytest.raises(ValueError, match=f"{optimizer_class.__name__}: {name}"):
        optimizer_class([_param()], **options)


def test_a_group_option_out_of_range_is_rejected_too():
    with pytest.raises(ValueError, match="lr must be >= 0, got -1"):
        optim.Adam([{"params": [_param()], "lr": -1}])


@pytest.mark.parametrize(
    "bad, shown",
    [
        (np.ones(2), "ndarray of shape"),
        (1.5, "float"),
        (ag.tensor(np.ones(2, dtype=np.int64)), "dtype int64"),
        (ag.tensor(np.ones(2)), "requires_grad=False"),
    ],
)
def test_something_that_is_not_a_parameter_raises_type_error_naming_it(bad, shown):
    with pytest.raises(TypeError, match=shown):
        optim.SGD([_param(), bad], lr=0.1)


@pytest.mark.parametrize("params", [_param(), {_param()}, 3])
def test_params_must_be_an_ordered_iterable(params):
    with pytest.raises(TypeError, match="SGD: params must be an ordered iterable"):
        optim.SGD(params, lr=0.1)


def test_empty_params_and_non_leaf_tensors_are_rejected():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([_param() * 2], lr=0.1)


def test_a_parameter_appearing_twice_is_rejected_within_and_across_groups():
    p, q = _param(), _param()
    with pytest.raises(ValueError, match="appear once"):
        optim.SGD([p, q, p], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="already in group 0"):
        opt.add_param_group({"params": [q, p]})
    assert len(opt.param_groups) == 1


def test_add_param_group_fills_in_the_defaults_and_keeps_its_own_options():
    p, q = _param(), _param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.5})
    assert opt.param_groups[1]["params"] == [q]
    assert (opt.param_groups[1]["lr"], opt.param_groups[1]["momentum"]) == (0.5, 0.9)
    q.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(q.value, [0.5, 0.5])


def test_parameters_without_gradient_are_skipped_and_get_no_state():
    p, q = _param(), _param()
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    assert np.array_equal(q.value, np.ones(2))
    assert q not in opt.state and opt.state[p]["step"] == 1


@pytest.mark.parametrize("name, options", PARAMS)
def test_float32_parameters_and_state_stay_float32(name, options):
    params = make_params(np.float32)
    opt = getattr(optim, name)(groups(params), **options)
    run(opt, params, gradient_sequence(3, np.float32))
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray))


def test_a_float64_gradient_does_not_upcast_a_float32_parameter():
    p = _param(dtype=np.float32)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2, dtype=np.float64)
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["momentum_buffer"].dtype == np.float32


@pytest.mark.parametrize("optimizer_class", ALL)
@pytest.mark.parametrize("grad_shape", [(1,), (3,), (2, 1)])
def test_a_gradient_of_another_shape_is_refused_naming_the_parameter(optimizer_class, grad_shape):
    # (1,) would broadcast into the update silently; (3,) and (2, 1) would fail inside numpy.
    first, second = _param((2,)), _param((2,))
    second.name = "bias"
    opt = optimizer_class([{"params": [first]}, {"params": [second]}], lr=0.1)
    first.grad, second.grad = np.ones(2), np.ones(grad_shape)
    message = (
        rf"{optimizer_class.__name__}.step: the gradient of parameter 0 \('bias'\) of group 1 must have "
        rf"the parameter's shape \(2,\), got {re.escape(str(grad_shape))}"
    )
    with pytest.raises(ValueError, match=message):
        opt.step()
    np.testing.assert_array_equal(second.value, np.ones(2))


def test_step_changes_the_value_in_place_and_stale_graphs_refuse_backward():
    p = _param()
    loss = (p * p).sum()  # Mul saved p's array for backward
    p.grad = np.ones(2)
    array = p.value
    optim.SGD([p], lr=0.1).step()
    assert p.value is array
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_a_read_only_value_is_replaced_instead_of_written():
    p = _param()
    p.value.flags.writeable = False
    p.grad = np.ones(2)
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_allclose(p.value, [0.5, 0.5])


def test_step_never_changes_the_gradient():
    p = _param()
    p.grad = np.full(2, 3.0)
    for optimizer_class in ALL:
        optimizer_class([p], lr=0.1, weight_decay=0.1).step()
    np.testing.assert_array_equal(p.grad, [3.0, 3.0])


@pytest.mark.parametrize("set_to_none, expected", [(True, None), (False, [0.0, 0.0])])
def test_zero_grad(set_to_none, expected):
    p, q = _param(), _param()
    p.grad = np.ones(2)
    optim.SGD([p, q], lr=0.1).zero_grad(set_to_none=set_to_none)
    assert (p.grad is None) if expected is None else p.grad.tolist() == expected
    assert q.grad is None


def test_step_with_a_closure_reevaluates_with_grad_and_returns_its_loss():
    p = _param()
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ag.no_grad():  # the closure records a graph all the same
        loss = opt.step(closure)
    assert loss.item() == 2.0
    np.testing.assert_allclose(p.value, [0.5, 0.5])


def test_state_dict_layout_and_snapshot():
    params = make_params()
    opt = optim.Adam(groups(params), lr=0.1)
    run(opt, params, gradient_sequence(2))
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert saved["param_groups"][1]["lr"] == 0.03 and saved["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(saved["state"]) == [0, 1, 2] and saved["state"][0]["step"] == 2
    before = saved["state"][0]["exp_avg"].copy()
    run(opt, params, gradient_sequence(1))
    assert np.array_equal(saved["state"][0]["exp_avg"], before)


@pytest.mark.parametrize("name, options", PARAMS)
def test_resuming_from_state_dict_matches_an_uninterrupted_run_bit_for_bit(name, options):
    grads = gradient_sequence(10)
    straight = make_params()
    run(getattr(optim, name)(groups(straight), **options), straight, grads)
    first = make_params()
    opt = getattr(optim, name)(groups(first), **options)
    run(opt, first, grads[:5])
    saved = opt.state_dict()
    second = [ag.tensor(p.value.copy(), requires_grad=True) for p in first]
    resumed = getattr(optim, name)(groups(second), lr=123.0)  # the saved options replace these
    resumed.load_state_dict(saved)
    run(resumed, second, grads[5:])
    assert all(np.array_equal(a.value, b.value) for a, b in zip(straight, second, strict=True))


def _as_saved_to_disk(state_dict: dict) -> dict:
    """What a container without lists, tuples or int keys gives back: str keys, arrays, 0-d arrays."""

    def convert(x):
        if isinstance(x, dict):
            return {str(k): convert(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return {str(i): convert(v) for i, v in enumerate(x)} if x and isinstance(x[0], dict) else np.array(x)
        return x if isinstance(x, np.ndarray) else np.array(x)

    return convert(state_dict)


def test_load_state_dict_accepts_str_keys_arrays_and_casts_buffers_to_the_parameter_dtype():
    params = make_params()
    opt = optim.Adam(groups(params), lr=0.1, betas=(0.8, 0.9))
    run(opt, params, gradient_sequence(2))
    small = make_params(np.float32)
    resumed = optim.Adam(groups(small))
    resumed.load_state_dict(_as_saved_to_disk(opt.state_dict()))
    group = resumed.param_groups[0]
    assert group["betas"] == (0.8, 0.9) and type(group["lr"]) is float and group["amsgrad"] is False
    assert resumed.state[small[0]]["step"] == 2 and resumed.state[small[0]]["exp_avg"].dtype == np.float32
    run(resumed, small, gradient_sequence(2, np.float32))
    assert all(p.dtype == np.float32 for p in small)


def test_load_state_dict_rejects_groups_of_another_shape():
    params = make_params()
    saved = optim.SGD(groups(params), lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"groups of sizes \[3\] expected, got groups of sizes \[2, 1\]"):
        optim.SGD(make_params(), lr=0.1).load_state_dict(saved)


def test_load_state_dict_rejects_buffers_of_another_shape():
    p = _param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["momentum_buffer"] = np.ones(3)
    with pytest.raises(ValueError, match=r"momentum_buffer of parameter 0 must have its shape \(2,\), got \(3,\)"):
        opt.load_state_dict(saved)


@pytest.mark.parametrize(
    "optimizer_class, options, error, message",
    [
        (optim.SGD, dict(lr="0.1"), TypeError, "lr must be a number, got str '0.1'"),
        (optim.SGD, dict(lr=[0.1]), TypeError, r"lr must be a number, got tuple \(0.1,\)"),
        (optim.SGD, dict(lr=0.1, momentum=None), TypeError, "momentum must be a number, got NoneType"),
        (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov="yes"), TypeError, "nesterov must be a bool, got str"),
        (optim.RMSprop, dict(alpha=np.array([0.9, 0.99])), TypeError, "alpha must be a number, got tuple"),
        (optim.RMSprop, dict(centered=1), TypeError, "centered must be a bool, got int 1"),
        (optim.Adagrad, dict(lr_decay=True), TypeError, "lr_decay must be a number, got bool"),
        (optim.Adadelta, dict(rho="0.9"), TypeError, "rho must be a number, got str '0.9'"),
        (optim.Adam, dict(betas=0.9), TypeError, "betas must be a tuple of numbers, got float 0.9"),
        (optim.Adam, dict(betas=("0.9", 0.999)), TypeError, "betas must be a tuple of numbers"),
        (optim.Adam, dict(betas=(0.9, 0.99, 0.999)), ValueError, r"betas must be a pair"),
        (optim.AdamW, dict(amsgrad="False"), TypeError, "amsgrad must be a bool, got str 'False'"),
    ],
)
def test_wrongly_typed_options_are_named_at_construction(optimizer_class, options, error, message):
    with pytest.raises(error, match=f"^{optimizer_class.__name__}: {message}"):
        optimizer_class([_param()], **options)


def _stepped_adam():
    params = make_params()
    opt = optim.Adam(groups(params), lr=0.1)
    run(opt, params, gradient_sequence(2))
    return opt, opt.state_dict()


def _assert_same_state(a: dict, b: dict) -> None:
    assert a["param_groups"] == b["param_groups"]
    assert sorted(a["state"]) == sorted(b["state"])
    for i, buffers in a["state"].items():
        assert sorted(buffers) == sorted(b["state"][i])
        assert all(np.array_equal(v, b["state"][i][k]) for k, v in buffers.items())


@pytest.mark.parametrize(
    "group, option, value, error, message",
    [
        (1, "lr", "0.1", TypeError, r"\(group 1\): lr must be a number, got str '0.1'"),
        (0, "eps", [1e-8], TypeError, r"\(group 0\): eps must be a number, got tuple"),
        (0, "betas", (0.9, 0.99, 0.999), ValueError, r"\(group 0\): betas must be a pair"),
        (0, "betas", np.array(0.9), TypeError, r"\(group 0\): betas must be a tuple of numbers, got float"),
        (1, "amsgrad", "False", TypeError, r"\(group 1\): amsgrad must be a bool"),
        (0, "weight_decay", -1.0, ValueError, r"\(group 0\): weight_decay must be >= 0"),
    ],
)
def test_load_state_dict_names_a_wrongly_typed_option_and_changes_nothing(group, option, value, error, message):
    opt, saved = _stepped_adam()
    saved["param_groups"][group][option] = value
    with pytest.raises(error, match=f"^Adam.load_state_dict {message}"):
        opt.load_state_dict(saved)
    _assert_same_state(opt.state_dict(), _stepped_adam()[1])


@pytest.mark.parametrize(
    "key, value, error, message",
    [
        ("exp_avg", np.array(["a", "b"]), TypeError, r"exp_avg of parameter 0 must hold numbers that cast to float64"),
        ("exp_avg_sq", np.array([1j, 2j]), TypeError, r"exp_avg_sq of parameter 0 must hold numbers"),
        ("step", "2", TypeError, "step of parameter 0 must be an int, got str '2'"),
        ("step", 2.5, TypeError, "step of parameter 0 must be an int, got float"),
        ("step", -1, ValueError, "step of parameter 0 must be >= 0, got -1"),
    ],
)
def test_load_state_dict_names_a_wrongly_typed_buffer_and_changes_nothing(key, value, error, message):
    opt, saved = _stepped_adam()
    saved["state"][0][key] = value
    with pytest.raises(error, match=f"^Adam.load_state_dict: {message}"):
        opt.load_state_dict(saved)
    _assert_same_state(opt.state_dict(), _stepped_adam()[1])


@pytest.mark.parametrize(
    "saved_by, loaded_by, missing",
    [
        (optim.Adam, optim.SGD, ["dampening", "momentum", "nesterov"]),
        (optim.SGD, optim.Adam, ["amsgrad", "betas", "decoupled_weight_decay", "eps"]),
        (optim.Adagrad, optim.RMSprop, ["alpha", "centered", "momentum"]),
    ],
)
def test_load_state_dict_refuses_another_update_rules_state(saved_by, loaded_by, missing):
    params = make_params()
    saver = saved_by(groups(params), lr=0.1)
    run(saver, params, gradient_sequence(2))
    loader = loaded_by(groups(make_params()), lr=0.1)
    name = loaded_by.__name__
    with pytest.raises(
        ValueError, match=rf"^{name}.load_state_dict: group 0 lacks the {name} options {re.escape(str(missing))}"
    ):
        loader.load_state_dict(saver.state_dict())
    assert loader.state == {} and loader.param_groups[0]["lr"] == 0.1


def test_load_state_dict_refuses_a_parameter_index_given_twice():
    opt, saved = _stepped_adam()
    saved["param_groups"][0]["params"] = [0, 0]
    with pytest.raises(ValueError, match=r"each parameter index may appear once, got the groups \[\[0, 0\], \[2\]\]"):
        opt.load_state_dict(saved)


@pytest.mark.parametrize(
    "state_dict, error, message",
    [
        ([], TypeError, "a dict with 'state' and 'param_groups' expected, got list"),
        ({"state": {}}, ValueError, r"a dict with 'state' and 'param_groups' expected, got keys \['state'\]"),
    ],
)
def test_load_state_dict_needs_the_state_dict_layout(state_dict, error, message):
    with pytest.raises(error, match=f"^SGD.load_state_dict: {message}"):
        optim.SGD([_param()], lr=0.1).load_state_dict(state_dict)


def test_repr_names_the_rule_and_its_defaults():
    assert repr(optim.SGD([_param()], lr=0.1)).startswith("SGD(1 group(s), lr=0.1, momentum=0.0")
