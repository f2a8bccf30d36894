"""TensorNode's PyTorch surface: each case is one lambda run on a TensorNode and on a torch.Tensor, whose
values, dtypes and gradients must agree; then the PyTorch idioms that used to give silently wrong answers."""

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch", reason="the PyTorch comparisons need torch: pip install torch==2.13.0")

RNG = np.random.default_rng(0)
X = RNG.uniform(-2, 2, (3, 4))  # float64, no ties
Y = RNG.uniform(-2, 2, (3, 4))
X3 = RNG.uniform(-2, 2, (2, 3, 4))
XS = RNG.uniform(-2, 2, (3, 1, 4))

# (id, fn, input arrays): fn(*tensors) must mean the same for nodegrad and torch.
CASES = [
    ("sum", lambda x: x.sum(), [X]),
    ("sum-dim", lambda x: x.sum(1), [X]),
    ("sum-dims-keepdim", lambda x: x.sum(dim=(0, 1), keepdim=True), [X]),
    ("sum-axis-alias", lambda x: x.sum(axis=0), [X]),
    ("mean-dim-keepdim", lambda x: x.mean(dim=0, keepdim=True), [X]),
    ("max", lambda x: x.max(), [X]),
    ("max-dim-values", lambda x: x.max(1).values, [X]),
    ("max-dim-indices", lambda x: x.max(1).indices, [X]),
    ("max-dim-unpacked-keepdim", lambda x: x.max(dim=0, keepdim=True)[0], [X]),
    ("min-dim-indices", lambda x: x.min(1)[1], [X]),
    ("min-dim-values", lambda x: x.min(-1).values, [X3]),
    ("amax-dims", lambda x: x.amax((0, 2)), [X3]),
    ("amin-keepdim", lambda x: x.amin(1, keepdim=True), [X]),
    ("argmax", lambda x: x.argmax(), [X]),
    ("argmax-dim", lambda x: x.argmax(1), [X]),
    ("argmax-keepdim", lambda x: x.argmax(dim=0, keepdim=True), [X]),
    ("argmin-dim", lambda x: x.argmin(-1), [X3]),
    ("var", lambda x: x.var(), [X]),
    ("var-dim", lambda x: x.var(1), [X]),
    ("var-biased", lambda x: x.var(1, unbiased=False), [X]),
    ("var-correction-keepdim", lambda x: x.var(0, correction=0, keepdim=True), [X]),
    ("std", lambda x: x.std(), [X]),
    ("std-dim-keepdim", lambda x: x.std(1, keepdim=True), [X]),
    ("softmax", lambda x: x.softmax(1), [X]),
    ("log_softmax", lambda x: x.log_softmax(dim=0), [X]),
    ("view", lambda x: x.view(4, 3), [X]),
    ("view-tuple", lambda x: x.view((2, -1)), [X]),
    ("view_as", lambda x, y: x.view(-1).view_as(y), [X, Y]),
    ("reshape", lambda x: x.reshape(2, -1), [X]),
    ("permute", lambda x: x.permute(2, 0, 1), [X3]),
    ("permute-tuple", lambda x: x.permute((1, 0, 2)), [X3]),
    ("transpose-2d", lambda x: x.transpose(0, 1), [X]),
    ("transpose-3d", lambda x: x.transpose(-1, 0), [X3]),
    ("t", lambda x: x.t(), [X]),
    ("T", lambda x: x.T, [X]),
    ("flatten", lambda x: x.flatten(), [X3]),
    ("flatten-dims", lambda x: x.flatten(1, 2), [X3]),
    ("unsqueeze", lambda x: x.unsqueeze(1), [X]),
    ("squeeze", lambda x: x.squeeze(), [XS]),
    ("squeeze-dim", lambda x: x.squeeze(1), [XS]),
    ("squeeze-dim-not-1", lambda x: x.squeeze(0), [XS]),
    ("expand", lambda x: x.expand(2, 3, 4), [X]),
    ("expand-minus-1", lambda x: x.unsqueeze(0).expand(5, -1, -1), [X]),
    ("expand_as", lambda x, y: x[:1].expand_as(y), [X, Y]),
    ("repeat", lambda x: x.repeat(2, 1), [X]),
    ("repeat-new-dim", lambda x: x.repeat(2, 1, 3), [X]),
    ("pow", lambda x: x.pow(2), [X]),
    ("abs", lambda x: x.abs(), [X]),
    ("neg", lambda x: x.neg(), [X]),
    ("sign", lambda x: x.detach().sign(), [X]),  # no gradient here; torch's is zero
    ("clamp", lambda x: x.clamp(-0.5, 0.5), [X]),
    ("clamp-min-kw", lambda x: x.clamp(min=0), [X]),
    ("clamp_min", lambda x: x.clamp_min(0.1), [X]),
    ("clamp_max", lambda x: x.clamp_max(0.1), [X]),
    ("clip", lambda x: x.clip(-0.1, 0.1), [X]),
    ("where", lambda x, y: x.where(x > 0, y), [X, Y]),
    ("masked_fill", lambda x: x.masked_fill(x > 0, 0.5), [X]),
    ("exp-log-sqrt", lambda x: x.exp().log().abs().sqrt(), [X]),
    ("sigmoid-tanh-relu", lambda x: x.sigmoid() + x.tanh() + x.relu(), [X]),
    ("add-alpha", lambda x, y: x.add(y, alpha=2), [X, Y]),
    ("sub-alpha", lambda x, y: x.sub(y, alpha=0.5), [X, Y]),
    ("mul-div", lambda x, y: x.mul(y).div(y.abs() + 1), [X, Y]),
    ("gt", lambda x: x > 0, [X]),
    ("eq", lambda x, y: x == y, [X, X]),
    ("ne-scalar", lambda x: x != X[0, 0], [X]),
    ("lt-le-ge", lambda x, y: (x < y) | (x <= y) & x.ge(y) ^ (x > 0), [X, Y]),
    ("eq-method", lambda x, y: x.eq(y), [X, Y]),
    ("float", lambda x: x.float(), [X]),
    ("double", lambda x: x.float().double(), [X]),
    ("long", lambda x: (x * 10).long(), [X]),
    ("int", lambda x: (x * 10).int(), [X]),
    ("bool", lambda x: x.bool(), [X]),
    ("half", lambda x: x.half(), [X]),
    ("to-dtype", lambda x: x.to(x.float().dtype), [X]),
    ("to-device-dtype", lambda x: x.to("cpu", x.float().dtype), [X]),
    ("type_as", lambda x, y: x.type_as(y.float()), [X, Y]),
    ("clone", lambda x: x.clone() * 2, [X]),
    ("detach", lambda x: x.detach(), [X]),
    ("int-tensor-plus-float", lambda x: (x * 10).long() + 0.5, [X]),
    ("float32-times-float64-0d", lambda x: x.float() * x[0, 0], [X]),
    ("split-size", lambda x: x.split(3, 1)[1] * 2, [X]),
    ("split-sizes", lambda x: x.split([1, 2], 0)[1], [X]),
    ("chunk", lambda x: x.chunk(2, -1)[0] + x.chunk(2, -1)[1], [X]),
    ("contiguous-view", lambda x: x.transpose(0, 1).contiguous().view(-1), [X]),
    ("type", lambda x: x.type(x.float().dtype), [X]),
    ("sin-cos-tan", lambda x: x.sin() + x.cos() + (x / 4).tan(), [X]),
    ("sinh-cosh", lambda x: x.sinh() * x.cosh(), [X]),
    ("log1p-expm1", lambda x: x.abs().log1p() + x.expm1(), [X]),
    ("erf-erfc", lambda x: x.erf() + x.erfc() * x, [X]),
    ("logsumexp", lambda x: x.logsumexp(1), [X]),
    ("logsumexp-keepdim", lambda x: x.logsumexp(dim=0, keepdim=True), [X]),
    ("cumsum", lambda x: x.cumsum(1), [X]),
    ("tril-triu", lambda x: x.tril() + x.triu(1) * 2, [X]),
    ("masked_fill", lambda x: x.masked_fill(x > 0, 0.5), [X]),
    ("gather", lambda x: x.gather(1, (x > 0).long()), [X]),
    ("sort-values", lambda x: x.sort(1).values * 2, [X]),
    ("sort-descending-indices", lambda x: x.sort(0, descending=True)[1], [X]),
    ("argsort", lambda x: x.argsort(-1), [X3]),
    ("topk-values", lambda x: x.topk(2, dim=1).values, [X]),
    ("topk-smallest-indices", lambda x: x.topk(2, 0, largest=False).indices, [X]),
    ("all-dim", lambda x: (x > -1).all(1), [X]),
    ("any-keepdim", lambda x: (x > 1).any(dim=0, keepdim=True), [X]),
    ("all", lambda x: (x > -3).all(), [X]),
]


def _torch_dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


def _run(fn, arrays, module):
    tensors = [module.tensor(a.copy(), requires_grad=True) for a in arrays]
    return tensors, fn(*tensors)


@pytest.mark.parametrize("fn, arrays", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_method_matches_torch(fn, arrays):
    ours, out = _run(fn, arrays, ag)
    theirs, expected = _run(fn, arrays, torch)
    assert out.dtype == np.dtype(_torch_dtype_name(expected)), "dtype"
    assert out.shape == tuple(expected.shape), "shape"
    np.testing.assert_allclose(out.value.astype(np.float64), expected.detach().double().numpy(), rtol=1e-6)
    assert out.requires_grad == expected.requires_grad
    if not expected.requires_grad:
        return
    upstream = RNG.uniform(0.5, 1.5, out.shape)
    out.backward(upstream.astype(out.dtype))
    expected.backward(torch.tensor(upstream, dtype=expected.dtype))
    for t, t_torch in zip(ours, theirs):
        if t_torch.grad is None:
            assert t.grad is None
        else:
            np.testing.assert_allclose(t.grad, t_torch.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_shape_queries_match_torch():
    x, x_t = ag.tensor(X3), torch.tensor(X3)
    assert x.size() == tuple(x_t.size()) and x.size(1) == x_t.size(1) and x.size(-1) == x_t.size(-1)
    assert (x.dim(), x.numel(), x.size().numel()) == (x_t.dim(), x_t.numel(), x_t.size().numel())
    assert x.tolist() == x_t.tolist() and x[0, 0, 0].item() == x_t[0, 0, 0].item()
    assert isinstance(x.numpy(), np.ndarray)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor(3),
        lambda m: m.tensor([1.0, 2]),
        lambda m: m.tensor([True]),
        lambda m: m.zeros(2, 3),
        lambda m: m.ones((2, 3), dtype=m.float64),
        lambda m: m.empty(2).zero_(),  # torch.empty holds whatever memory had, NaN too: `* 0` is not enough
        lambda m: m.full((2,), 7),
        lambda m: m.full((2,), 7.0),
        lambda m: m.full((2,), True),
        lambda m: m.arange(5),
        lambda m: m.arange(1, 2, 0.25),
        lambda m: m.arange(5, dtype=m.float32),
        lambda m: m.linspace(0, 1, 5),
        lambda m: m.eye(3),
        lambda m: m.eye(2, 3, dtype=m.int64),
        lambda m: m.zeros_like(m.tensor([1, 2])),
        lambda m: m.ones_like(m.tensor([1.0, 2.0]), dtype=m.float64),
        lambda m: m.full_like(m.tensor([1.0, 2.0]), 3),
        lambda m: m.tensor([1, 2], dtype=m.float32),
        lambda m: m.tensor([1, 2], dtype=m.long) + 1,
        lambda m: m.tensor([1, 2], dtype=m.int32) * 2,
        lambda m: m.tensor([1, 2], dtype=m.uint8),
        lambda m: m.tensor([1, 2], dtype=m.float16),
        lambda m: m.tensor([1, 2], dtype=m.double),
    ],
)
def test_factories_and_dtypes_match_torch(fn):
    out, expected = fn(ag), fn(torch)
    assert out.dtype == np.dtype(_torch_dtype_name(expected))
    np.testing.assert_array_equal(out.value, expected.numpy())


@pytest.mark.parametrize("name", ["rand", "randn", "rand_like", "randn_like", "randint"])
def test_random_factories_are_seeded_and_shaped(name):
    make = {
        "rand": lambda: ag.rand(2, 3, requires_grad=True),
        "randn": lambda: ag.randn((2, 3), dtype=ag.float64),
        "rand_like": lambda: ag.rand_like(ag.zeros(2, 3)),
        "randn_like": lambda: ag.randn_like(ag.zeros(2, 3)),
        "randint": lambda: ag.randint(0, 10, (2, 3)),
    }[name]
    ag.manual_seed(1)
    a = make()
    ag.manual_seed(1)
    b = make()
    assert a.shape == (2, 3) and a.equal(b)
    assert a.dtype == {"randn": np.float64, "randint": np.int64}.get(name, np.float32)
    assert a.requires_grad == (name == "rand")


def test_device_and_cuda_port_from_torch():
    device = ag.device("cuda" if ag.cuda.is_available() else "cpu")
    x = ag.tensor([1.0]).to(device)
    assert x.device == device == "cpu" and str(device) == "cpu" and not x.is_cuda and x.cpu() is x
    with pytest.raises(RuntimeError, match="to: nodegrad runs on the CPU only, got device 'cuda'"):
        x.to("cuda")
    assert x.to(ag.float32) is x  # as torch, to() returns the tensor itself when nothing changes


# ---- the idioms that used to give silently wrong answers ----------------------------------------------


def test_equality_is_element_wise_and_hashing_is_by_identity():
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([1.0, 3.0])
    assert (a == b).tolist() == [True, False] and (a != b).tolist() == [False, True]
    assert np.all((a == a.clone()).value) and (~(a == b)).tolist() == [False, True]
    state = {a: "a", b: "b"}  # optimizers key their state by tensor
    assert state[a] == "a" and state[b] == "b" and len({a, b, a}) == 2
    assert ag.tensor([1.0]) is not ag.tensor([1.0])
    assert not (ag.tensor(1.0) == ag.tensor(2.0))
    assert (ag.tensor(1) > 0).item() is True


def test_transpose_of_2d_swaps_and_max_over_a_dim_unpacks_to_values_and_indices():
    scores = ag.tensor([[0.1, 0.9], [0.8, 0.2]])
    np.testing.assert_allclose(scores.transpose(0, 1).value, [[0.1, 0.8], [0.9, 0.2]])
    _, predicted = ag.max(scores, 1)
    assert predicted.dtype == np.int64 and predicted.tolist() == [1, 0] and not predicted.requires_grad
    values, indices = scores.min(dim=0)
    assert values.tolist() == pytest.approx([0.1, 0.2]) and indices.tolist() == [0, 1]
    np.testing.assert_allclose(ag.max(scores, ag.full((2, 2), 0.5)).value, [[0.5, 0.9], [0.8, 0.5]])
    assert ag.max(scores).item() == pytest.approx(0.9)


def test_sgd_by_hand_under_no_grad_keeps_the_parameter():
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    same = w
    for _ in range(2):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        with ag.no_grad():
            w -= 0.25 * w.grad
    assert w is same and w.requires_grad and w.is_leaf
    assert w.tolist() == [0.25, -0.5]


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = ag.tensor([1.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.mul_(2), lambda: w.copy_(ag.tensor([3.0]))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            change()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w += 1
    with ag.no_grad():
        w.mul_(3).add_(1)
    assert w.tolist() == [4.0] and w.requires_grad


def test_recorded_in_place_changes_of_non_leaves_match_torch():
    def run(m, x, w):
        y = x * 2
        y += w
        y.mul_(w)
        y.sub_(x, alpha=0.5)
        y.div_(2).clamp_(-3, 3)
        y[0:1].sum()  # a later view is fine
        z = m.zeros(3)
        z += y  # a buffer without gradient joins the graph
        z.pow_(2)
        return z

    arrays = [np.array([1.0, -2.0, 3.0]), np.array([0.5, 1.0, -2.0])]
    ours, out = _run(lambda x, w: run(ag, x, w), arrays, ag)
    theirs, expected = _run(lambda x, w: run(torch, x, w), arrays, torch)
    np.testing.assert_allclose(out.value, expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    for t, t_torch in zip(ours, theirs):
        np.testing.assert_allclose(t.grad, t_torch.grad.numpy())


def test_a_retained_grad_after_a_recorded_in_place_change_is_the_new_values_gradient_as_torch():
    def run(m, x):
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad

    ours = run(ag, ag.tensor([1.0, 2.0], requires_grad=True))
    theirs = run(torch, torch.tensor([1.0, 2.0], requires_grad=True))
    np.testing.assert_allclose(ours, theirs.numpy())  # 2 y of the new y: [12, 24]


def test_a_hook_registered_before_a_recorded_in_place_change_can_still_be_removed():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.copy()))
    y.mul_(3)
    handle.remove()
    (y * y).sum().backward()
    assert seen == []


def test_fill_and_copy_of_a_non_leaf_send_the_gradient_to_the_new_values_only():
    x, src = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([5.0, 6.0], requires_grad=True)
    y = x * 3
    y.copy_(src)
    (y * ag.tensor([1.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0] and src.grad.tolist() == [1.0, 2.0]
    y = x * 3
    y.fill_(4).zero_()
    assert y.tolist() == [0.0, 0.0] and y.requires_grad


def test_a_changed_array_that_an_op_saved_refuses_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="Exp saved for backward was modified in place"):
        y.sum().backward()
    h = x * 1.0
    z = h * x  # saves h
    h.mul_(2)
    with pytest.raises(RuntimeError, match="Mul saved for backward was modified in place"):
        z.sum().backward()


def test_views_share_memory_and_versions_and_a_recorded_change_of_a_viewed_tensor_is_refused():
    base = ag.zeros(2, 3)
    row = base[1]
    base.fill_(2.0)
    assert row.tolist() == [2.0, 2.0, 2.0] and row._base is base and base._version == 1
    row.zero_()
    assert base.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]] and base._version == 2
    x = ag.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    h = x * 2
    view = h.view(2, 2)
    with pytest.raises(RuntimeError, match="shares its memory with a view"):
        h.add_(x)
    with pytest.raises(RuntimeError, match="shares its memory with a view"):
        view.mul_(x.view(2, 2))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ag.zeros(2).add_(ag.zeros(3, 2))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        ag.tensor([1, 2]).add_(0.5)


def test_a_0d_leafs_grad_is_a_writable_array():
    a = ag.tensor(2.0, requires_grad=True)
    (a * a).backward()
    (a * 3).backward()
    assert isinstance(a.grad, np.ndarray) and a.grad.item() == 7.0
    a.grad.fill(0)
    assert a.grad.item() == 0.0
    b = ag.tensor(1.0, requires_grad=True)
    b.sum().backward()
    assert isinstance(b.grad, np.ndarray) and b.grad.flags.writeable


def test_var_defaults_to_the_unbiased_estimate_and_numpy_spellings_stay():
    x = ag.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(torch.tensor([1.0, 2.0, 3.0, 4.0]).var().item())
    assert x.var(ddof=0).item() == pytest.approx(1.25) and np.var(x).item() == pytest.approx(1.25)
    assert np.max(ag.tensor([[1.0, 2.0]]), axis=1).tolist() == [2.0]  # numpy's max: values only
    with pytest.raises(TypeError, match="var: pass one of unbiased, correction and ddof"):
        x.var(unbiased=True, correction=0)
    with pytest.raises(TypeError, match="sum: pass dim or its numpy alias axis, not both"):
        x.sum(0, axis=0)


def test_data_is_a_detached_view_sharing_memory_and_can_be_replaced():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert not d.requires_grad and np.shares_memory(d.value, w.value)
    d.mul_(2)  # init code: `w.data.normal_()`, `w.data.mul_(...)`, allowed outside no_grad
    assert w.tolist() == [2.0, 4.0] and w.requires_grad
    w.data = ag.tensor([5.0, 6.0])
    assert w.tolist() == [5.0, 6.0] and w.requires_grad
    ag.manual_seed(0)
    w.data.normal_(0.0, 0.02)
    assert abs(w.value).max() < 0.2 and w.dtype == np.float32


def test_second_derivatives_through_a_recorded_in_place_change_match_torch():
    def first_and_second(grad, x):
        y = x * x
        y.mul_(x)
        (g,) = grad(y.sum(), x, create_graph=True)
        return g, grad(g.sum(), x)[0]

    x, x_t = ag.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ours, theirs = first_and_second(ag.grad, x), first_and_second(torch.autograd.grad, x_t)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.value, b.detach().numpy())


def test_contiguous_copies_a_transposed_layout_and_keeps_the_graph():
    a = ag.tensor([[0.0, 1, 2], [3, 4, 5]])
    assert a.contiguous() is a
    v = a.transpose(0, 1).contiguous()
    v.add_(1)  # a copy, as torch's: the original keeps its values
    assert v.value.flags.c_contiguous and a.tolist() == [[0.0, 1, 2], [3, 4, 5]]
    w = ag.tensor(np.ones((2, 3)), requires_grad=True)
    (w * 2).t().contiguous().sum().backward()
    assert w.grad.tolist() == [[2.0] * 3] * 2


def test_clamp_takes_tensor_bounds_and_promotes_int_tensors_to_float_bounds():
    x, lo = ag.tensor([-2.0, 0.5, 3.0], requires_grad=True), ag.tensor(0.0, requires_grad=True)
    xt, lot = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True), torch.tensor(0.0, requires_grad=True)
    x.clamp(lo).sum().backward()
    xt.clamp(lot).sum().backward()
    assert x.grad.tolist() == xt.grad.tolist() and lo.grad.item() == lot.grad.item()
    clamped = ag.tensor([1, 4]).clamp(0.5, 2.5)
    assert clamped.dtype == np.float32 and clamped.tolist() == torch.tensor([1, 4]).clamp(0.5, 2.5).tolist()
    assert ag.tensor([1, 4]).clamp(0, 2).dtype == np.int64


def test_from_numpy_shares_memory_and_as_tensor_copies_only_when_it_must():
    array = np.zeros(2)
    shared = ag.from_numpy(array)
    array[0] = 5.0
    assert shared.tolist() == [5.0, 0.0] and ag.as_tensor(array).value is array
    assert ag.as_tensor(shared) is shared and ag.as_tensor(array, dtype=ag.float32).dtype == np.float32
    assert ag.as_tensor([1, 2]).dtype == torch.as_tensor([1, 2]).numpy().dtype
    with pytest.raises(TypeError, match="from_numpy: expected an np.ndarray, got list"):
        ag.from_numpy([1.0])


def test_setitem_writes_in_place_as_torch_and_is_recorded_in_a_graph():
    ours, theirs = ag.tensor([[1.0, 2, 3], [4, 5, 6]]), torch.tensor([[1.0, 2, 3], [4, 5, 6]])
    for t, module in ((ours, ag), (theirs, torch)):
        t[0, 1] = 9
        t[t > 5] = 0
        t[:, 0] = module.tensor([7.0, 8.0])
    assert ours.tolist() == theirs.tolist() and ours._version > 0
    w, wt = ag.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    for leaf in (w, wt):
        y = leaf * 2
        y[0] = 0
        y[:, 1:3] = 1
        (y * y).sum().backward()
    np.testing.assert_allclose(w.grad, wt.grad.numpy())
    with pytest.raises(RuntimeError, match="setitem: a leaf Variable that requires grad"):
        w[0, 0] = 1.0
    with pytest.raises(RuntimeError, match="setitem: the value .* requires grad"):
        (w * 1)[0] = w[1]


def test_view_shares_memory_or_refuses_as_torch():
    a = ag.tensor([[0.0, 1, 2], [3, 4, 5]])
    a.view(3, 2).zero_()
    assert a.tolist() == [[0.0] * 3] * 2
    with pytest.raises(RuntimeError, match=r"view: size \(6,\) is not compatible with the memory layout"):
        a.t().view(-1)
    assert a.t().reshape(-1).shape == (6,) and a.t().contiguous().view(-1).shape == (6,)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: ag.tensor([2, 3]) ** -1, ValueError, "pow: Integers to negative integer powers are not allowed"),
        (lambda: ag.ones(2) + ag.ones(3), ValueError, r"add: shapes \(2,\) and \(3,\) do not broadcast"),
        (lambda: ag.ones(4).split(0), ValueError, "split: split_size must be a positive int, got 0"),
        (lambda: ag.ones(4).chunk(0), ValueError, "chunk: chunks must be a positive int, got 0"),
        (lambda: ag.ones(3).__setitem__(slice(2), np.ones(3)), ValueError, r"setitem: could not broadcast .*\(3,\)"),
        (lambda: ag.ones(3).expand(2, 3).__setitem__(0, 1.0), RuntimeError, "setitem: .* is read-only"),
    ],
)
def test_errors_name_the_method_and_the_cause(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_pad_inference_mode_and_sort_ties_as_torch():
    a = RNG.uniform(-2, 2, (1, 2, 3))
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = nn.functional.pad(x, (1, 2, 0, 1), value=3.0), torch.nn.functional.pad(xt, (1, 2, 0, 1), value=3.0)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_array_equal(y.value, yt.detach().numpy())
    np.testing.assert_allclose(x.grad, xt.grad.numpy())
    with pytest.raises(NotImplementedError, match="pad: only mode='constant'"):
        nn.functional.pad(x, (1, 1), mode="reflect")
    with ag.inference_mode():
        assert not (x * 2).requires_grad
    ties = np.array([3.0, 1.0, 3.0, 1.0])
    for descending in (False, True):
        ours, theirs = (
            ag.tensor(ties).sort(descending=descending),
            torch.tensor(ties).sort(stable=True, descending=descending),
        )
        assert ours.indices.tolist() == theirs.indices.tolist()
