"""nn.init: formulas, dtypes, in-place writes, the engine generator, and errors."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init

INITIALIZERS = [
    lambda t: init.zeros_(t),
    lambda t: init.ones_(t),
    lambda t: init.constant_(t, 0.25),
    lambda t: init.uniform_(t, -2, 3),
    lambda t: init.normal_(t, 1.0, 0.5),
    lambda t: init.xavier_uniform_(t),
    lambda t: init.xavier_normal_(t, gain=2.0),
    lambda t: init.kaiming_uniform_(t, a=0.1, mode="fan_out"),
    lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
]


@pytest.mark.parametrize("initialize", INITIALIZERS)
def test_initializers_fill_in_place_keep_dtype_and_return_the_tensor(initialize):
    for dtype in (np.float32, np.float64):
        param = nn.Parameter(np.full((6, 5), np.nan, dtype))
        array = param.value
        assert initialize(param) is param
        assert param.value is array and param.dtype == dtype and np.isfinite(array).all()
    plain = np.full((6, 5), np.nan, np.float32)
    assert initialize(plain) is plain and np.isfinite(plain).all()


@pytest.mark.parametrize("initialize", INITIALIZERS[3:])
def test_manual_seed_makes_initialization_repeat(initialize):
    ag.manual_seed(42)
    first = initialize(nn.Parameter(np.zeros((4, 3)))).value.copy()
    ag.manual_seed(42)
    np.testing.assert_array_equal(initialize(nn.Parameter(np.zeros((4, 3)))).value, first)
    assert not np.array_equal(initialize(nn.Parameter(np.zeros((4, 3)))).value, first)


def test_layers_default_init_repeats_under_manual_seed():
    ag.manual_seed(3)
    a = nn.Conv2d(2, 3, 3).state_dict()
    ag.manual_seed(3)
    b = nn.Conv2d(2, 3, 3).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_bounds_follow_the_formulas():
    w = nn.Parameter(np.zeros((200, 100, 3), np.float64))
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
    assert (fan_in, fan_out) == (300, 600)
    xavier = math.sqrt(6 / (fan_in + fan_out))
    assert xavier * 0.99 < np.abs(init.xavier_uniform_(w).value).max() <= xavier
    kaiming = math.sqrt(3) * math.sqrt(2) / math.sqrt(fan_out)
    assert kaiming * 0.99 < np.abs(init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").value).max() <= kaiming
    std = math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(fan_in)
    assert init.kaiming_normal_(w, a=0.2).value.std() == pytest.approx(std, rel=0.02)
    assert init.normal_(w, 3.0, 0.01).value.mean() == pytest.approx(3.0, abs=1e-3)  # the course's weight_scale
    layer = nn.Linear(50, 10)
    assert np.abs(layer.weight.value).max() <= 1 / math.sqrt(50) and np.abs(layer.bias.value).max() <= 1 / math.sqrt(50)


def test_gains():
    assert init.calculate_gain("linear") == init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("selu") == 0.75


def test_zero_element_tensors_are_left_alone():
    empty = nn.Parameter(np.zeros((0, 3)))
    assert init.kaiming_uniform_(empty) is empty and init.kaiming_normal_(empty) is empty
    assert nn.Linear(0, 2).bias.value.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: init.calculate_gain("swish"), "calculate_gain: nonlinearity must be one of"),
        (lambda: init.calculate_gain("leaky_relu", "steep"), "calculate_gain: negative_slope must be a number"),
        (lambda: init.xavier_uniform_(nn.Parameter(np.zeros(3))), r"at least 2 dims, got shape \(3,\)"),
        (lambda: init.kaiming_normal_(nn.Parameter(np.zeros((2, 2))), mode="fan"), "init: mode must be one of"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
