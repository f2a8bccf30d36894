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
        t(2, 3).transpose(0, 0)
    with pytest.raises(ValueError, match="squeeze: only axes of size 1 can be removed, got axis 0 of size 2"):
        t(2, 3).squeeze(0)
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
