"""Bad input gets a clear error naming the op, the shapes or dtypes, and what was expected."""

import numpy as np
import pytest

import autograd as ag


def t(*shape, dtype=np.float64):
    return ag.tensor(np.ones(shape, dtype=dtype), requires_grad=dtype != np.int64)


CONV_CASES = [
    (t(28, 28), t(4, 1, 3, 3), {}, ValueError, r"conv2d: input must have 4 dims \(N, C, H, W\), got shape \(28, 28\)"),
    (t(1, 3, 8, 8), t(4, 2, 3, 3), {}, ValueError, r"conv2d: input has 3 channels but weight \(4, 2, 3, 3\) expects 2"),
    (t(1, 4, 8, 8), t(6, 2, 3, 3), dict(groups=3), ValueError, "conv2d: groups must divide both input channels 4"),
    (
        t(1, 1, 4, 4),
        t(2, 1, 5, 5),
        dict(padding=0),
        ValueError,
        r"kernel span \(5, 5\) is larger than the padded input \(4, 4\)",
    ),
    (t(1, 1, 4, 4), t(2, 1, 3), {}, ValueError, r"conv2d: weight must have 4 dims .* got shape \(2, 1, 3\)"),
    (t(1, 1, 4, 4), t(2, 1, 3, 3), dict(stride=0), ValueError, "conv2d: stride must be an int >= 1"),
]


@pytest.mark.parametrize("x, w, params, error, message", CONV_CASES)
def test_conv2d_errors(x, w, params, error, message):
    with pytest.raises(error, match=message):
        ag.conv2d(x, w, **params)


def test_conv2d_bias_shape():
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\), got \(3,\)"):
        ag.conv2d(t(1, 1, 4, 4), t(2, 1, 3, 3), t(3))


@pytest.mark.parametrize("pool", [ag.max_pool2d, ag.avg_pool2d])
def test_pool_window_larger_than_input(pool):
    with pytest.raises(ValueError, match=r"kernel span \(5, 5\) is larger than the padded input \(3, 3\)"):
        pool(t(1, 1, 3, 3), 5)
    with pytest.raises(ValueError, match="input must have 4 dims"):
        pool(t(3, 3), 2)
    with pytest.raises(ValueError, match="padding must be at most half the kernel size"):
        pool(t(1, 1, 8, 8), 2, padding=2)


@pytest.mark.parametrize("loss", [ag.cross_entropy, ag.nll_loss, ag.multi_margin_loss])
def test_class_target_errors(loss):
    logits = t(3, 4)
    name = loss.__name__
    with pytest.raises(ValueError, match=rf"{name}: target values must lie in \[0, 4\), got 4 at position 1"):
        loss(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=rf"{name}: target values must lie in \[0, 4\), got -1"):
        loss(logits, np.array([0, 1, -1]))
    with pytest.raises(TypeError, match=rf"{name}: target must hold integer class indices, got dtype float64"):
        loss(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=rf"{name}: target must have shape \(3,\) to match input \(3, 4\), got \(2,\)"):
        loss(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=rf"{name}: input must have 2 dims \(N, C\), got shape \(4,\)"):
        loss(t(4), np.array([0]))


def test_loss_reduction_must_be_known():
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        ag.mse_loss(t(2), t(2), reduction="avg")


def test_shape_op_errors():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, 2\)"):
        t(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"transpose: axes must be a permutation of range\(2\), got \(0, 0\)"):
        t(2, 3).permute(0, 0)
    assert t(2, 3).squeeze(0).shape == (2, 3)  # torch leaves a dim of size > 1 in place; numpy's squeeze raises
    with pytest.raises(ValueError, match="squeeze: only axes of size 1 can be removed, got axis 0 of size 2"):
        np.squeeze(t(2, 3), 0)
    with pytest.raises(ValueError, match=r"expand: shape \(2, 3\) cannot be expanded to \(4, 3\)"):
        t(2, 3).expand(4, 3)
    with pytest.raises(ValueError, match=r"concat: all inputs must have the same shape except along axis 0"):
        ag.concat([t(2, 3), t(2, 4)])
    with pytest.raises(ValueError, match=r"stack: all inputs must have the same shape, got \(2, 3\) and \(3, 2\)"):
        ag.stack([t(2, 3), t(3, 2)])
    with pytest.raises(IndexError, match=r"getitem: index 5 does not fit shape \(2, 3\)"):
        t(2, 3)[5]
    with pytest.raises(ValueError, match=r"sum: axis must lie in \[-2, 2\), got 2 for a tensor of 2 dims"):
        t(2, 3).sum(axis=2)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="batch_norm: running_mean and running_var are required when training=False"):
        ag.batch_norm(t(4, 3))
    with pytest.raises(
        ValueError, match=r"batch_norm: training needs more than 1 value per channel, got input shape \(1, 3\)"
    ):
        ag.batch_norm(t(1, 3), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\) for input \(4, 3\), got \(2,\)"):
        ag.batch_norm(t(4, 3), weight=t(2), training=True)


def test_dropout_probability_range():
    with pytest.raises(ValueError, match="dropout: p must lie in \\[0, 1\\], got 1.5"):
        ag.dropout(t(3), p=1.5)


def test_detect_anomaly_names_the_forward_op():
    x = ag.tensor(np.array([1.0, -1.0]), requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(RuntimeError, match=r"detect_anomaly: Sqrt produced nan in output 0"):
        ag.sqrt(x)


def test_detect_anomaly_names_the_backward_op_and_its_forward_call_site():
    x = ag.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ag.detect_anomaly():
        y = ag.sqrt(x)  # finite forward, infinite derivative at 0
        with pytest.raises(
            RuntimeError, match=r"(?s)Sqrt.backward produced inf.*forward Sqrt was called at:.*test_errors"
        ):
            y.sum().backward()


def test_without_detect_anomaly_nothing_is_checked():
    with np.errstate(invalid="ignore"):
        y = ag.sqrt(ag.tensor(np.array([-1.0])))
    assert np.isnan(y.item())


def test_linear_errors():
    with pytest.raises(
        ValueError, match=r"linear: input \(\.\.\., in_features\) and weight .* got \(2, 3\) and \(4, 5\)"
    ):
        ag.linear(t(2, 3), t(4, 5))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(4,\), got \(3,\)"):
        ag.linear(t(2, 3), t(4, 3), t(3))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: ag.cast(ag.tensor([1.0]), "foo"),
            TypeError,
            "cast: dtype must be a numpy dtype or its name, got 'foo'",
        ),
        (
            lambda: ag.ops.LinearWeightGrad.apply(np.ones((4, 3)), np.ones((5, 2))),
            ValueError,
            r"linear_weight_grad: .* must share their leading shape, got \(4, 3\) and \(5, 2\)",
        ),
        (
            lambda: ag.ops.GetItemGrad.apply(np.ones(3), shape=(4, 5), index=np.array([0, 1])),
            ValueError,
            r"getitem_grad: grad must have the shape of x\[index\] for x of shape \(4, 5\)",
        ),
        (
            lambda: ag.where(np.ones(3, bool), ag.tensor(np.ones(3)), ag.tensor(np.ones(2))),
            ValueError,
            r"where: condition \(3,\), a \(3,\) and b \(2,\) do not broadcast",
        ),
    ],
)
def test_gradient_and_helper_op_errors_name_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


# Bad inputs that used to reach numpy or Python and fail there (or not at all), each with the error
# that names the op (or setting) and what came.
BAD_INPUTS = [
    (
        lambda: ag.conv2d(t(1, 1, 4, 4), t(2, 1, 3, 3), stride=1.5),
        TypeError,
        "conv2d: stride must be an int >= 1 or a pair of them, got 1.5",
    ),
    (
        lambda: ag.conv2d(t(1, 1, 4, 4), t(2, 1, 3, 3), padding=(1, 0.5)),
        TypeError,
        r"conv2d: padding must be an int >= 0 or a pair of them, got \(1, 0.5\)",
    ),
    (
        lambda: ag.conv2d(t(1, 2, 4, 4), t(2, 1, 3, 3), groups=2.0),
        TypeError,
        "conv2d: groups must be an int >= 1, got 2.0",
    ),
    (
        lambda: ag.max_pool2d(t(1, 1, 4, 4), 2.0),
        TypeError,
        "max_pool2d: kernel_size must be an int >= 1 or a pair of them, got 2.0",
    ),
    (
        lambda: ag.avg_pool2d(t(1, 1, 4, 4), 2, stride="2"),
        TypeError,
        "avg_pool2d: stride must be an int >= 1 or a pair of them, got '2'",
    ),
    (
        lambda: ag.max_pool2d(t(1, 1, 4, 4), 2, padding=True),
        TypeError,
        "max_pool2d: padding must be an int >= 0 or a pair of them, got True",
    ),
    (lambda: ag.concat([t(), t()]), ValueError, r"concat: inputs must have at least 1 dim .*got shape \(\)"),
    (
        lambda: ag.stack([t(2, 3), t(2, 3)], axis=5),
        ValueError,
        r"stack: axis must lie in \[-3, 3\), got 5 for a tensor of 3 dims",
    ),
    (lambda: ag.stack([t(2, 3), t(2, 3)], axis=1.0), TypeError, "stack: axis must be an int, got 1.0"),
    (lambda: t(2, 3).sum(axis=1.0), TypeError, "sum: axis must be an int, got 1.0"),
    (lambda: t(2, 3).mean(axis=(0, 1.5)), TypeError, "mean: axis must be an int, got 1.5"),
    (lambda: t(2, 3).max(axis="0"), TypeError, "max: axis must be an int, got '0'"),
    (lambda: t(2, 3).var(axis=True), TypeError, "var: axis must be an int, got True"),
    (
        lambda: ag.softmax(t(2, 3), axis=2),
        ValueError,
        r"softmax: axis must lie in \[-2, 2\), got 2 for a tensor of 2 dims",
    ),
    (lambda: ag.log_softmax(t(2, 3), axis=0.0), TypeError, "log_softmax: axis must be an int, got 0.0"),
    (
        lambda: t(2, 3).transpose(0, 2),
        ValueError,
        r"transpose: dim must lie in \[-2, 2\), got 2 for a tensor of 2 dims",
    ),
    (lambda: t(2, 3).transpose(1.0, 0), TypeError, "transpose: dim0 must be an int, got 1.0"),
    (lambda: t(2, 3).unsqueeze(0.5), TypeError, "unsqueeze: axis must be an int, got 0.5"),
    (lambda: t(1, 3).squeeze(0.0), TypeError, "squeeze: axis must be an int, got 0.0"),
    (lambda: t(2, 3).reshape(3.0, 2), TypeError, r"reshape: shape must be an int or a tuple of ints, got \(3.0, 2\)"),
    (lambda: t(1, 3).expand(2.0, 3), TypeError, r"expand: shape must be an int or a tuple of ints, got \(2.0, 3\)"),
    (lambda: ag.pad(t(2, 3), 1.5), TypeError, "pad: pad_width must hold ints, got 1.5"),
    (lambda: t(2, 3).flatten(0.5), TypeError, "flatten: start_dim must be an int, got 0.5"),
    (
        lambda: t(2, 3).flatten(0, 2),
        ValueError,
        r"flatten: end_dim must lie in \[-2, 2\), got 2 for a tensor of 2 dims",
    ),
    (lambda: ag.dropout(t(3), p="0.5"), TypeError, r"dropout: p must be a number in \[0, 1\], got '0.5'"),
    (
        lambda: ag.binary_cross_entropy_with_logits(t(2), np.array(["0", "1"])),
        TypeError,
        r"binary_cross_entropy_with_logits: target must hold probabilities \(real numbers\), got dtype <U1",
    ),
    (lambda: ag.mse_loss(t(2), np.array(["0", "1"])), TypeError, "mse_loss: dtypes float64 and <U1 cannot be combined"),
    (lambda: t(2) + np.array(["a", "b"]), TypeError, "add: dtypes float64 and <U1 cannot be combined"),
    (
        lambda: ag.linear(t(2, 3, dtype=np.int64), t(4, 3, dtype=np.float32)),
        TypeError,
        "linear: input and weight must be the same kind of number, got dtypes int64 and float32",
    ),
    (
        lambda: ag.conv2d(t(1, 1, 4, 4, dtype=np.int64), t(2, 1, 3, 3, dtype=np.float32)),
        TypeError,
        "conv2d: input and weight must be the same kind of number, got dtypes int64 and float32",
    ),
    # Complex and object values cannot carry gradients: refused where they enter, not at backward.
    (
        lambda: ag.tensor(np.ones(2, np.complex128), requires_grad=True),
        TypeError,
        "requires_grad: only floating-point tensors can require gradients, got dtype complex128",
    ),
    (
        lambda: t(2) * np.ones(2, np.complex128),
        TypeError,
        r"Mul: output 0 must be floating point to carry a gradient, got dtype complex128 \(shape \(2,\)\)",
    ),
    (
        lambda: t(2, 1) + np.array([1.0, 2.0, 3.0], dtype=object),
        TypeError,
        r"Add: output 0 must be floating point to carry a gradient, got dtype object \(shape \(2, 3\)\)",
    ),
    (
        lambda: t(3).astype(np.complex64),
        TypeError,
        r"Cast: output 0 must be floating point to carry a gradient, got dtype complex64 \(shape \(3,\)\)",
    ),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_inputs_get_an_error_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_complex_constants_without_gradients_still_compute():
    y = ag.tensor(np.ones(2)) * np.full(2, 1j)
    assert y.dtype == np.complex128 and not y.requires_grad


@pytest.mark.parametrize(
    "loss",
    [
        lambda x: x.sum(),
        lambda x: x.mean(),
        lambda x: x.max(),
        lambda x: ag.mse_loss(x, np.zeros((1, 2))),
        lambda x: ag.cross_entropy(x, np.array([0])),
        lambda x: ag.binary_cross_entropy_with_logits(x, np.zeros((1, 2))),
    ],
)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_detect_anomaly_catches_a_full_reduction(loss, bad):
    # Full reductions return numpy scalars, not arrays: the check must look at those too.
    x = ag.tensor(np.array([[1.0, bad]]), requires_grad=True)
    with (
        ag.detect_anomaly(),
        pytest.raises(RuntimeError, match=r"detect_anomaly: \w+ produced (nan|inf) in output 0 \(shape \(\)\)"),
    ):
        loss(x)


def test_detect_anomaly_catches_a_0d_gradient():
    x = ag.tensor(np.array(0.0), requires_grad=True)
    with ag.detect_anomaly():
        y = ag.sqrt(x)
        with pytest.raises(RuntimeError, match=r"Sqrt.backward produced inf in the gradient of input 0 \(shape \(\)\)"):
            y.backward()
