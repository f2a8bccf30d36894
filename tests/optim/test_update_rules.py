"""Each update rule against numbers worked out by hand from its formula, for two or three steps.

One scalar parameter starts at 1.0 and receives the gradients 1, -2, 0.5; every expected value below is
written out from the rule's equations, not computed by the optimizer. These run without PyTorch.
"""

import math

import numpy as np
import pytest

import autograd as ag
import optim

GRADS = [1.0, -2.0, 0.5]


def _trajectory(optimizer_class, steps: int = 3, **options) -> list:
    p = ag.tensor(np.array([1.0]), requires_grad=True)
    opt = optimizer_class([p], **options)
    values = []
    for g in GRADS[:steps]:
        p.grad = np.array([g])
        opt.step()
        values.append(p.value.item())
    return values


def _close(actual: list, expected: list) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-12)


def test_sgd_plain_steps_against_the_gradient():
    _close(_trajectory(optim.SGD, lr=0.1), [0.9, 1.1, 1.05])


def test_sgd_maximize_steps_along_the_gradient():
    _close(_trajectory(optim.SGD, lr=0.1, maximize=True), [1.1, 0.9, 0.95])


def test_sgd_momentum_buffer_starts_at_the_first_gradient_and_dampens_later_ones():
    b1 = 1.0
    b2 = 0.9 * b1 + 0.5 * -2.0  # -0.1
    b3 = 0.9 * b2 + 0.5 * 0.5  # 0.16
    _close(
        _trajectory(optim.SGD, lr=0.1, momentum=0.9, dampening=0.5),
        [1 - 0.1 * b1, 1 - 0.1 * (b1 + b2), 1 - 0.1 * (b1 + b2 + b3)],
    )


def test_sgd_nesterov_steps_along_gradient_plus_momentum_times_buffer():
    b1, b2 = 1.0, 0.9 * 1.0 - 2.0  # -1.1
    d1, d2 = 1.0 + 0.9 * b1, -2.0 + 0.9 * b2  # 1.9, -2.99
    _close(_trajectory(optim.SGD, steps=2, lr=0.1, momentum=0.9, nesterov=True), [1 - 0.1 * d1, 1 - 0.1 * (d1 + d2)])


def test_sgd_weight_decay_adds_the_l2_gradient():
    p1 = 1.0 - 0.1 * (1.0 + 0.5 * 1.0)  # 0.85
    p2 = p1 - 0.1 * (-2.0 + 0.5 * p1)
    _close(_trajectory(optim.SGD, steps=2, lr=0.1, weight_decay=0.5), [p1, p2])


def test_rmsprop_divides_by_the_root_mean_square():
    s1 = 0.5 * 1.0  # alpha = 0.5: s = 0.5 s + 0.5 g^2
    s2 = 0.5 * s1 + 0.5 * 4.0  # 2.25
    s3 = 0.5 * s2 + 0.5 * 0.25  # 1.25
    p1 = 1.0 - 0.1 * 1.0 / math.sqrt(s1)
    p2 = p1 - 0.1 * -2.0 / 1.5
    p3 = p2 - 0.1 * 0.5 / math.sqrt(s3)
    _close(_trajectory(optim.RMSprop, lr=0.1, alpha=0.5, eps=0.0), [p1, p2, p3])


def test_rmsprop_centered_divides_by_the_running_standard_deviation():
    m1, s1 = 0.5, 0.5
    m2, s2 = 0.5 * m1 + 0.5 * -2.0, 0.5 * s1 + 0.5 * 4.0  # -0.75, 2.25
    p1 = 1.0 - 0.1 * 1.0 / math.sqrt(s1 - m1**2)  # 0.8
    p2 = p1 - 0.1 * -2.0 / math.sqrt(s2 - m2**2)
    _close(_trajectory(optim.RMSprop, steps=2, lr=0.1, alpha=0.5, eps=0.0, centered=True), [p1, p2])


def test_rmsprop_momentum_accumulates_the_scaled_gradient():
    b1 = 1.0 / math.sqrt(0.5)
    b2 = 0.9 * b1 + -2.0 / 1.5
    _close(
        _trajectory(optim.RMSprop, steps=2, lr=0.1, alpha=0.5, eps=0.0, momentum=0.9),
        [1 - 0.1 * b1, 1 - 0.1 * (b1 + b2)],
    )


def test_rmsprop_eps_is_added_to_the_root():
    _close(_trajectory(optim.RMSprop, steps=1, lr=0.1, alpha=0.0, eps=1.0), [1.0 - 0.1 * 1.0 / (1.0 + 1.0)])


def test_adagrad_sums_squares_and_decays_the_learning_rate():
    s1, s2, s3 = 1.0 + 1.0, 2.0 + 4.0, 6.0 + 0.25  # initial_accumulator_value = 1
    lr1, lr2, lr3 = 0.1, 0.1 / (1 + 0.5), 0.1 / (1 + 2 * 0.5)
    p1 = 1.0 - lr1 * 1.0 / math.sqrt(s1)
    p2 = p1 - lr2 * -2.0 / math.sqrt(s2)
    p3 = p2 - lr3 * 0.5 / math.sqrt(s3)
    _close(_trajectory(optim.Adagrad, lr=0.1, lr_decay=0.5, initial_accumulator_value=1.0, eps=0.0), [p1, p2, p3])


def test_adadelta_scales_by_the_root_of_past_steps_over_the_root_of_past_gradients():
    rho, eps = 0.5, 0.01
    v1 = 0.5 * 1.0
    d1 = math.sqrt(eps) / math.sqrt(v1 + eps) * 1.0
    u1 = 0.5 * d1 * d1
    v2 = rho * v1 + 0.5 * 4.0
    d2 = math.sqrt(u1 + eps) / math.sqrt(v2 + eps) * -2.0
    p1 = 1.0 - 0.5 * d1
    _close(_trajectory(optim.Adadelta, steps=2, lr=0.5, rho=rho, eps=eps), [p1, p1 - 0.5 * d2])


def _adam_moments():
    """First and second moments and their bias corrections for betas (0.5, 0.75) over GRADS."""
    m = [0.5, 0.5 * 0.5 + 0.5 * -2.0, 0.5 * -0.75 + 0.5 * 0.5]  # 0.5, -0.75, -0.125
    v = [0.25, 0.75 * 0.25 + 0.25 * 4.0, 0.75 * 1.1875 + 0.25 * 0.25]  # 0.25, 1.1875, 0.953125
    bc1 = [1 - 0.5, 1 - 0.5**2, 1 - 0.5**3]
    bc2 = [1 - 0.75, 1 - 0.75**2, 1 - 0.75**3]  # the step count t in the exponent, not 2
    return m, v, bc1, bc2


def test_adam_corrects_both_moments_with_the_step_count():
    m, v, bc1, bc2 = _adam_moments()
    p1 = 1.0 - 0.1 * (m[0] / bc1[0]) / math.sqrt(v[0] / bc2[0])  # 0.9: the first step has size lr
    p2 = p1 - 0.1 * (m[1] / bc1[1]) / math.sqrt(v[1] / bc2[1])
    p3 = p2 - 0.1 * (m[2] / bc1[2]) / math.sqrt(v[2] / bc2[2])
    _close(_trajectory(optim.Adam, lr=0.1, betas=(0.5, 0.75), eps=0.0), [p1, p2, p3])


def test_adam_eps_is_added_after_the_bias_corrected_root():
    _close(_trajectory(optim.Adam, steps=1, lr=0.1, betas=(0.5, 0.75), eps=1.0), [1.0 - 0.1 * 1.0 / (1.0 + 1.0)])


def test_amsgrad_keeps_the_largest_second_moment():
    m, v, bc1, bc2 = _adam_moments()
    assert v[2] < v[1]  # the third step must use v[1]
    p2 = _trajectory(optim.Adam, steps=2, lr=0.1, betas=(0.5, 0.75), eps=0.0)[1]
    p3 = p2 - 0.1 * (m[2] / bc1[2]) / math.sqrt(v[1] / bc2[2])
    _close(_trajectory(optim.Adam, lr=0.1, betas=(0.5, 0.75), eps=0.0, amsgrad=True)[2:], [p3])


def test_adam_weight_decay_is_folded_into_the_gradient():
    g1 = 1.0 + 0.5 * 1.0
    p1 = 1.0 - 0.1  # whatever the gradient, Adam's first step has size lr
    g2 = -2.0 + 0.5 * p1
    m2, v2 = 0.5 * (0.5 * g1) + 0.5 * g2, 0.75 * (0.25 * g1**2) + 0.25 * g2**2
    p2 = p1 - 0.1 * (m2 / 0.75) / math.sqrt(v2 / (1 - 0.75**2))
    _close(_trajectory(optim.Adam, steps=2, lr=0.1, betas=(0.5, 0.75), eps=0.0, weight_decay=0.5), [p1, p2])


def test_adamw_shrinks_the_parameter_outside_the_adaptive_step():
    m, v, bc1, bc2 = _adam_moments()
    p1 = 1.0 * (1 - 0.1 * 0.5) - 0.1  # 0.85
    p2 = p1 * (1 - 0.1 * 0.5) - 0.1 * (m[1] / bc1[1]) / math.sqrt(v[1] / bc2[1])
    _close(_trajectory(optim.AdamW, steps=2, lr=0.1, betas=(0.5, 0.75), eps=0.0, weight_decay=0.5), [p1, p2])


@pytest.mark.parametrize(
    "optimizer_class", [optim.SGD, optim.RMSprop, optim.Adadelta, optim.Adagrad, optim.Adam, optim.AdamW]
)
def test_a_zero_learning_rate_leaves_the_parameter_alone(optimizer_class):
    assert _trajectory(optimizer_class, lr=0.0, weight_decay=0.1) == [1.0, 1.0, 1.0]
