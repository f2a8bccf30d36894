"""Graph semantics: topological backward, accumulation, release after backward, grad mode."""

import gc
import threading
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd.graph import edge
from autograd.op import Op


def leaf(*shape, seed=0, dtype=np.float64):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def test_diamond_sums_both_paths():
    x = leaf(3)
    a = x * 2
    b = x.exp()
    (a * b).sum().backward()
    expected = 2 * np.exp(x.value) + 2 * x.value * np.exp(x.value)
    np.testing.assert_allclose(x.grad, expected)


def test_one_node_used_many_times():
    x = leaf(4)
    y = x * x * x + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.value**2 + 1)


def test_each_op_runs_backward_once():
    calls = []

    class Counted(Op):
        """y = x;  dx = g (counts its backward calls)."""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return (grad,)

    x = leaf(3)
    h = Counted.apply(x)
    (h * 2 + h * 3 + h).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad, np.full(3, 6.0))


def test_a_recorded_ops_context_is_its_node_and_backward_drops_what_forward_kept_there():
    class _KeepsMask(Op):
        """y = x * (x > 0);  dx = g * (x > 0), the mask kept as a ctx attribute."""

        @staticmethod
        def forward(ctx, x):
            ctx.mask = x > 0
            return x * ctx.mask

        @staticmethod
        def backward(ctx, grad):
            return (grad * ctx.mask,)

    x = ag.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = _KeepsMask.apply(x)
    node = y.source
    mask = weakref.ref(node.mask)
    assert node.ctx is node and node.needs_input_grad == (True,) and not node.released
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])
    assert node.released and node.ctx is None and mask() is None
    assert node.op is _KeepsMask and node.output_meta == (((2,), np.dtype(np.float64)),)  # drawings' fields stay
    with ag.no_grad():  # nothing recorded: forward gets a plain Context
        assert _KeepsMask.apply(x).source is None


@pytest.mark.parametrize("name", ["inputs", "op", "params", "released", "output_meta"])
def test_an_op_whose_forward_keeps_a_setting_under_a_name_of_the_node_is_refused_when_defined(name):
    # ctx is the OpNode: `ctx.inputs = ...` would overwrite the node's edges and break backward far away.
    source = f"""
class _Clash(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.{name} = 2.0
        return x

    @staticmethod
    def backward(ctx, grad):
        return (grad,)
"""
    with pytest.raises(TypeError, match=rf"_Clash.forward: ctx\.{name} is a name the graph node uses"):
        exec(source, {"Op": Op})


def test_hundred_thousand_op_chain_backpropagates():
    x = ag.tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y + 1.0
    y.backward(np.ones(1))
    assert x.grad.tolist() == [1.0]


def test_wide_fan_out_accumulates():
    x = leaf(2)
    total = ag.stack([x * float(i) for i in range(1000)]).sum()
    total.backward()
    np.testing.assert_allclose(x.grad, np.full(2, sum(range(1000))))


def test_leaf_grads_accumulate_until_zeroed():
    x = leaf(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, 5.0))
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, 3.0))


def test_non_leaf_grad_kept_only_with_retain_grad():
    x = leaf(3)
    h = x * 2
    k = x * 3
    h.retain_grad()
    (h * k).sum().backward()
    np.testing.assert_allclose(h.grad, k.value)
    assert k.grad is None


def test_second_backward_through_released_graph_raises():
    x = leaf(3)
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="already released.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    loss = (x.exp() * 2).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp(x.value))


def test_intermediates_are_freed_after_backward_while_loss_lives():
    x = leaf(50)
    h = x.exp()
    hidden = weakref.ref(h)
    saved = weakref.ref(h.source.saved[0])  # the array Exp saved: its output, h's own value
    loss = (h * h).sum()
    del h
    gc.collect()
    # The live graph holds what backward needs (the arrays the ops saved), not the intermediate tensor itself.
    assert hidden() is None and saved() is not None
    loss.backward()
    gc.collect()
    assert saved() is None
    assert loss.value.shape == ()


def test_the_graph_keeps_its_edges_and_shapes_after_backward():
    x = leaf(2, 3)
    w = leaf(3, 4, seed=1)
    loss = (x @ w).relu().sum()
    loss.backward()
    node = loss.source
    assert node.released and node.op is ag.ops.Sum and node.output_meta == (((), np.dtype(np.float64)),)
    relu = node.parents[0]
    assert relu.op is ag.ops.ReLU and relu.input_meta == (((2, 4), np.dtype(np.float64)),)
    matmul = relu.parents[0]
    assert matmul.op is ag.ops.MatMul and matmul.parents == (None, None)
    assert matmul.inputs == ((x, 0), (w, 0))  # the leaves stay reachable


def test_no_grad_records_nothing_and_restores():
    x = leaf(3)
    with ag.no_grad():
        y = x * 2
        assert not ag.is_grad_enabled()
        with ag.enable_grad():
            z = x * 2
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.source is None
    assert z.requires_grad and z.source is not None


def test_no_grad_as_decorator():
    @ag.no_grad()
    def infer(t):
        return t * 2

    out = infer(leaf(3))
    assert out.source is None and ag.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["enabled"] = ag.is_grad_enabled()

    with ag.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["enabled"] is True


def test_detach_cuts_the_graph():
    x = leaf(3)
    y = (x * 2).detach()
    assert y.is_leaf and not y.requires_grad
    (x * y).sum().backward()
    np.testing.assert_allclose(x.grad, y.value)


def test_in_place_change_of_saved_array_is_refused():
    x = leaf(3)
    w = leaf(3, seed=1)
    loss = (x * w).sum()
    w.value += 1.0
    with pytest.raises(RuntimeError, match="Mul saved for backward was modified in place"):
        loss.backward()


def test_replacing_value_keeps_the_saved_array():
    x = leaf(3)
    w = leaf(3, seed=1)
    old = w.value
    loss = (x * w).sum()
    w.value = w.value + 1.0
    loss.backward()
    np.testing.assert_allclose(x.grad, old)


def test_hooks_see_and_replace_gradients():
    x = leaf(3)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.copy()))
    handle = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], np.ones(3))
    np.testing.assert_allclose(x.grad, np.full(3, 20.0))
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, 2.0))


@pytest.mark.parametrize("where", ["leaf", "root", "intermediate", "returned"])
def test_a_gradient_a_hook_kept_or_returned_never_shares_memory_with_a_grad(where):
    # 0-d, so that an implicit seed of ones can reach a leaf as it is.
    a, b = ag.tensor(1.0, requires_grad=True), ag.tensor(2.0, requires_grad=True)
    kept, mine = [], np.array(7.0, dtype=np.float32)
    if where == "leaf":  # the leaf's own backward: the seed is its gradient
        a.register_hook(kept.append)
        a.backward()
    elif where == "root":  # the root's gradient, the seed, goes on unchanged through Add to both leaves
        y = a + b
        y.register_hook(kept.append)
        y.backward()
    elif where == "intermediate":
        h = a + b
        h.register_hook(kept.append)
        (h * 2).backward()
    else:
        a.register_hook(lambda g: mine)
        (a * 2).backward()
    seen = kept[0] if kept else mine
    before = np.array(seen)
    a.grad += 100
    np.testing.assert_array_equal(seen, before)
    assert not np.shares_memory(a.grad, seen)


def test_post_accumulate_hook_fires_when_the_leafs_gradient_is_final_not_at_the_end():
    near, far = leaf(3), leaf(3, seed=1)  # near's only consumer runs first in backward, far's last
    seen = {}
    near.register_post_accumulate_grad_hook(lambda t: seen.update(near=t.grad.copy(), far_then=far.grad))
    far.register_post_accumulate_grad_hook(lambda t: seen.update(far=t.grad.copy()))
    (far.exp().tanh() * near).sum().backward()
    assert seen["far_then"] is None, "near's hook must run before far's gradient is computed"
    np.testing.assert_allclose(seen["near"], np.tanh(np.exp(far.value)))
    np.testing.assert_allclose(seen["far"], far.grad)


def test_post_accumulate_hook_sees_the_summed_accumulated_grad_after_gradient_hooks():
    x = leaf(3)
    x.grad = np.ones(3)
    calls = []
    x.register_hook(lambda g: g * 10)
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.copy()))
    (x * 2 + x * 3).sum().backward()  # two consumers, one hook call with their sum
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], np.ones(3) + 50.0)


def test_post_accumulate_hook_on_a_root_leaf_and_after_remove():
    x = leaf(3)
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.copy()))
    x.backward(np.full(3, 2.0))
    np.testing.assert_allclose(calls[0], np.full(3, 2.0))
    handle.remove()
    (x * 1).sum().backward()
    assert len(calls) == 1


def test_a_post_accumulate_hook_does_not_keep_its_leaf_alive():
    from autograd import differentiate

    x = leaf(3)
    x.register_post_accumulate_grad_hook(lambda t: None)
    alive = weakref.ref(x)
    del x
    gc.collect()
    assert alive() is None and not differentiate._POST_ACCUMULATE


def test_post_accumulate_hooks_are_for_leaves_that_require_grad_and_not_for_ag_grad():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        ag.tensor(np.ones(2)).register_post_accumulate_grad_hook(print)
    calls = []
    x.register_post_accumulate_grad_hook(calls.append)
    ag.grad((x * 2).sum(), x)
    assert calls == [] and x.grad is None


def test_queued_callbacks_run_after_every_grad_is_set_and_only_inside_backward():
    a, b = leaf(3), leaf(3, seed=1)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: ag.queue_callback(lambda: seen.append(b.grad is not None)))
    (a.exp() * b.exp().exp()).sum().backward()  # a's gradient is final before b's
    assert seen == [True]
    with pytest.raises(RuntimeError, match="only while a backward runs"):
        ag.queue_callback(print)


def test_gradients_of_two_leaves_are_independent_arrays():
    a, b = leaf(3), leaf(3, seed=1)
    (a + b).sum().backward()
    a.grad *= 5
    np.testing.assert_allclose(b.grad, np.ones(3))
    assert a.grad.flags.writeable


def test_seed_gradient_is_not_aliased():
    x = leaf(3)
    seed = np.ones(3)
    x.backward(seed)
    x.grad += 1
    np.testing.assert_allclose(seed, np.ones(3))


def test_the_implicit_seed_reaching_two_leaves_gives_each_its_own_array():
    a, b = ag.tensor(2.0, requires_grad=True), ag.tensor(3.0, requires_grad=True)
    (a + b).backward()  # Add hands the seed of ones to both inputs as it is
    a.grad += 5
    assert b.grad == 1.0 and a.grad == 6.0
    a.backward()  # a leaf's own backward: the seed is its gradient
    assert a.grad == 7.0 and a.grad.flags.writeable


class _SplitHalves(Op):  # private: a test op, not one of the engine's registered ops
    """(y1, y2) = halves of x, copied;  dx = concat(g1, g2)."""

    @staticmethod
    def forward(ctx, x):
        half = len(x) // 2
        return x[:half].copy(), x[half:].copy()

    @staticmethod
    def backward(ctx, g1, g2):
        return (np.concatenate([g1, g2]),)


def test_multi_output_op():
    x = leaf(4)
    first, second = _SplitHalves.apply(x)
    (first * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0, 0.0, 0.0])
    assert second.source is first.source


def test_gradient_statistics_only_when_asked():
    x = leaf(4, 3)
    loss = (x - 0.5).relu().sum()
    loss.backward()
    assert loss.source.grad_stats is None
    x = leaf(4, 3)
    shifted = x - 10.0  # every element negative: the ReLU passes no gradient
    loss = shifted.relu().sum()
    with ag.record_grad_stats():
        loss.backward()
    assert loss.source.grad_stats[0]["norm"] == 1.0
    relu_out = loss.source.parents[0].grad_stats[0]
    assert relu_out["norm"] == pytest.approx(np.sqrt(12)) and relu_out["zero_fraction"] == 0.0
    assert shifted.source.grad_stats[0]["zero_fraction"] == 1.0


def test_in_place_change_seen_through_a_saved_view():
    # MatMul saves w.T, a view of w: changing w in place must still be caught.
    x = leaf(2, 3)
    w = leaf(4, 3, seed=1)
    loss = (x @ w.T).sum()
    w.value -= 1.0
    with pytest.raises(RuntimeError, match=r"MatMul saved for backward was modified in place.*shape \(4, 3\)"):
        loss.backward()


def test_in_place_change_of_a_view_is_seen_by_its_base():
    x = leaf(2, 3)
    flat = x.reshape(6)
    loss = (x * x).sum()
    flat.value += 1.0  # writes through the view into x's memory
    with pytest.raises(RuntimeError, match="Mul saved for backward was modified in place"):
        loss.backward()


def test_fused_linear_equals_its_composition():
    x, w, b = leaf(5, 3), leaf(4, 3, seed=1), leaf(4, seed=2)
    fused = ag.linear(x, w, b)
    fused.backward(np.ones((5, 4)))
    grads = [t.grad for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    composed = x @ w.T + b
    composed.backward(np.ones((5, 4)))
    np.testing.assert_allclose(fused.value, composed.value)
    for g, t in zip(grads, (x, w, b)):
        np.testing.assert_allclose(g, t.grad)


def test_a_node_that_receives_no_gradient_does_not_block_its_producers():
    class Blocked(Op):
        """y = x;  no gradient flows back."""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return (None,)

    x = leaf(3)
    a = x * 2
    b = a * 3  # reached only through Blocked: runs no backward, but `a` must not wait for it
    (Blocked.apply(b) + a).sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, 2.0))
    assert a.source.released and not b.source.released  # a node that ran no backward keeps its context


def test_in_place_change_of_a_saved_output_is_refused():
    x = leaf(3)
    h = x.exp()  # Exp saves its output
    loss = h.sum()
    h.value += 1.0
    with pytest.raises(RuntimeError, match="Exp saved for backward was modified in place"):
        loss.backward()


def test_in_place_change_of_a_saved_output_is_refused_after_the_output_is_dropped():
    """The consumer releases the output before the producer's backward runs: the node counts the edit."""
    x = leaf(3)
    h = x.exp()  # Exp saves its output
    loss = (h + 1.0).sum()
    h.value += 1.0
    del h
    with pytest.raises(
        RuntimeError,
        match=r"Exp saved for backward was modified in place after the forward pass \(tensor of shape \(3,\)\)",
    ):
        loss.backward()


def test_in_place_change_of_a_saved_output_through_a_view_is_refused():
    x = leaf(4)
    h = x.tanh()  # Tanh saves its output
    loss = (h + 2.0).sum()
    view = h.reshape(2, 2)
    del h
    view.value += 1.0
    with pytest.raises(RuntimeError, match="Tanh saved for backward was modified in place"):
        loss.backward()


def test_an_unchanged_dropped_saved_output_backpropagates():
    x = leaf(3)
    h = x.exp()
    loss = (h + 1.0).sum()
    del h
    loss.backward()
    np.testing.assert_allclose(x.grad, np.exp(x.value))


def test_in_place_change_of_a_dropped_saved_output_of_a_multi_output_op_is_refused():
    class SplitExp(Op):
        """(y1, y2) = exp of the halves of x;  dx = concat(g1 * y1, g2 * y2)."""

        @staticmethod
        def forward(ctx, x):
            half = len(x) // 2
            y1, y2 = np.exp(x[:half]), np.exp(x[half:])
            ctx.save_for_backward(y1, y2)
            return y1, y2

        @staticmethod
        def backward(ctx, g1, g2):
            y1, y2 = ctx.saved
            return (np.concatenate([g1 * y1, g2 * y2]),)

    x = leaf(4)
    first, second = SplitExp.apply(x)
    second.value *= 2.0
    del second  # the edited output is gone, but backward through `first` still uses its array
    with pytest.raises(RuntimeError, match="SplitExp saved for backward was modified in place"):
        (first * 3).sum().backward()


def test_in_place_change_of_a_dropped_saved_input_made_by_an_op_is_refused():
    """The consumer keeps no tensor: the edit is read through its input edge (the producer counts it)."""
    x = leaf(3)
    h = x * 2.0
    loss = (h * h).sum()  # Mul saves h's array
    h.value += 1.0
    del h
    with pytest.raises(
        RuntimeError,
        match=r"Mul saved for backward was modified in place after the forward pass \(tensor of shape \(3,\)\)",
    ):
        loss.backward()


def test_an_in_place_change_of_one_output_leaves_consumers_of_another_alone():
    x = leaf(4)
    first, second = _SplitHalves.apply(x)
    loss = (first * first).sum() + second.sum()  # Mul saves first's array
    second.value *= 2.0  # counted by the node of _SplitHalves, which made both
    loss.backward()
    np.testing.assert_allclose(x.grad, np.concatenate([2 * x.value[:2], np.ones(2)]))


def test_a_saved_leaf_or_op_output_is_counted_through_the_edge_without_holding_the_tensor():
    x = leaf(3)
    h = x * 2.0
    y = h * x  # saves the arrays of h (an op's output) and x (a leaf)
    keys = y.source.saved_versions[::2]
    assert keys == (0, 1)  # input positions: their edits are read through the edges
    hidden = weakref.ref(h)
    del h
    gc.collect()
    assert hidden() is None
    c = ag.tensor(np.ones(3))  # a tensor without gradient has no edge: the node holds it
    z = x * c
    assert z.source.saved_versions[::2] == (0, c)


def test_an_output_made_without_gradient_is_a_leaf_at_index_0():
    """A later requires_grad_ makes it a leaf like any other: its edge is (itself, 0), and a post-accumulate
    hook runs as soon as its gradient is final, before the rest of the walk."""
    x = ag.tensor(np.arange(4.0))
    b = _SplitHalves.apply(x)[1]  # nothing requires grad: no node, no source
    b.requires_grad_(True)
    assert b.source is None and edge(b) == (b, 0)
    v = leaf(2)
    order = []
    b.register_post_accumulate_grad_hook(lambda t: order.append("b"))
    w = v.exp()
    w.register_hook(lambda g: order.append("w"))
    (w * b).sum().backward()
    assert order == ["b", "w"]


def test_each_input_edge_names_the_output_that_fed_it():
    x = leaf(4)

    class Halves(Op):
        """(y1, y2) = halves of x;  dx = concat(g1, g2)."""

        @staticmethod
        def forward(ctx, x):
            return x[:2].copy(), x[2:].copy()

        @staticmethod
        def backward(ctx, g1, g2):
            return (np.concatenate([g1, g2]),)

    first, second = Halves.apply(x)
    node = first.source
    joined = second * first
    assert joined.source.inputs == ((node, 1), (node, 0))
    joined.sum().backward()
    assert joined.source.inputs == ((node, 1), (node, 0))  # the same after backward
    assert x.grad.tolist() == second.value.tolist() + first.value.tolist()


def test_parents_and_input_meta_are_the_same_before_and_after_release():
    x = leaf(2, 3)
    c = ag.tensor(np.ones(3))  # a constant tensor
    h = x * 2.0
    loss = (h + c).sum()
    add = loss.source.parents[0]
    before = (add.parents, add.input_meta, h.source.parents, h.source.input_meta)
    loss.backward()
    assert add.released and h.source.released
    assert (add.parents, add.input_meta, h.source.parents, h.source.input_meta) == before
    assert add.parents == (h.source, None) and h.source.input_meta == (((2, 3), np.dtype(np.float64)), None)
    assert h.source.inputs == ((x, 0), None) and add.inputs == ((h.source, 0), None)
