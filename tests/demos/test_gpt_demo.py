"""The GPT demo: its --quick run trains, samples, plots, draws and scores the bigram baseline; its pieces (the
causal attention, weight tying, the optimizer's groups, the schedule, the bigram counts) do what they say."""

import json
import math
import shutil

import numpy as np
import pytest

import autograd as ag
from demos import gpt
from tests.demos.quick_runs import HAS_MATPLOTLIB, PNG_MAGIC, run_quick, start


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple:
    """(return code, stdout, stderr, folder) of one --quick run."""
    return run_quick(["gpt"], tmp_path_factory)["gpt"]


def test_quick_run_trains_samples_and_writes_its_files(run):
    returncode, stdout, stderr, folder = run
    assert returncode == 0, stderr[-3000:]
    out = folder / "runs" / "gpt"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["quick"] is True and metrics["settings"]["seed"] == 1
    config = gpt.QUICK

    history = metrics["history"]
    assert len(history["loss"]) == config["steps"] == metrics["steps"]
    assert all(math.isfinite(x) for key in ("loss", "eval_train", "eval_val", "grad_norm") for x in history[key])
    assert history["eval_step"][0] == 0 and history["eval_step"][-1] == config["steps"]
    # From the uniform guess, log(vocabulary), the loss falls within a few steps.
    vocabulary = metrics["vocabulary"]
    assert history["eval_val"][0] == pytest.approx(math.log(len(vocabulary)), abs=0.05)
    assert history["eval_train"][-1] < history["eval_train"][0] - 0.3
    assert history["eval_val"][-1] < history["eval_val"][0] - 0.3
    assert np.mean(history["loss"][-5:]) < np.mean(history["loss"][:5])
    # The schedule: a linear warm-up to the peak, then down towards min_lr.
    lr = history["lr"]
    assert lr[0] == pytest.approx(config["lr"] / config["warmup"], rel=1e-4)
    assert max(lr) == pytest.approx(config["lr"], rel=1e-4) and lr[-1] < config["lr"] / 2

    for key in ("val_loss", "train_loss", "bigram_val_loss"):
        assert math.isfinite(metrics[key]) and metrics[key] > 0, key
    assert metrics["gap_to_bigram"] == pytest.approx(metrics["bigram_val_loss"] - metrics["val_loss"])
    assert 2.0 < metrics["bigram_val_loss"] < 3.0  # a bigram of English characters: about 2.5 nats
    assert "bigram" in stdout and f"{metrics['bigram_val_loss']:.3f}" in stdout

    sample = metrics["sample"]
    assert len(sample) == 80 and set(sample) <= set(vocabulary)
    assert (out / "samples.txt").read_text(encoding="utf-8") == "\n" + sample + "\n"
    assert sample in stdout

    expected = {"samples", "graph"} | ({"loss"} if HAS_MATPLOTLIB else set())
    if shutil.which("dot") is None:
        expected.discard("graph")
    assert set(metrics["files"]) == expected
    if HAS_MATPLOTLIB:
        assert (out / "loss.png").read_bytes()[:8] == PNG_MAGIC
    if "graph" in expected:
        svg = (out / "graph.svg").read_text()
        assert all(f">{scope}<" in svg for scope in ("wte", "h.0.attn", "h.1.mlp.gelu", "ln_f", "lm_head"))


def test_the_demo_reads_a_text_the_user_names(tmp_path):
    (tmp_path / "tiny.txt").write_text("abcab cabbac " * 40, encoding="utf-8")
    options = ("--text", "tiny.txt", "--steps", "3", "--sample-chars", "20", "--top-k", "2", "--temperature", "0.5")
    process = start("gpt", "--quick", *options, cwd=tmp_path)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-3000:]
    metrics = json.loads((tmp_path / "runs" / "gpt" / "metrics.json").read_text())
    assert metrics["vocabulary"] == " abc" and metrics["steps"] == 3
    assert metrics["settings"]["top_k"] == 2 and metrics["settings"]["temperature"] == 0.5
    assert len(metrics["sample"]) == 20 and set(metrics["sample"]) <= set(" abc")


def test_a_missing_text_or_a_prompt_outside_the_vocabulary_exits_2(tmp_path, capsys):
    assert gpt.main(["--quick", "--text", str(tmp_path / "nothing.txt"), "--out", str(tmp_path / "out")]) == 2
    assert "nothing.txt" in capsys.readouterr().err
    (tmp_path / "tiny.txt").write_text("abcab cabbac " * 40, encoding="utf-8")
    assert gpt.main(["--quick", "--text", str(tmp_path / "tiny.txt"), "--prompt", "z"]) == 2
    assert "--prompt" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_attention_is_causal_and_heads_are_independent():
    """Changing a later character changes no earlier output; the logits match a per-head loop in numpy."""
    ag.manual_seed(0)
    model = gpt.GPT(vocab_size=7, block_size=6, n_layer=1, n_head=2, n_embd=8)
    idx = np.array([[1, 2, 3, 4, 5, 6]])
    changed = idx.copy()
    changed[0, 4] = 0
    with ag.no_grad():
        before, _ = model(idx)
        after, _ = model(changed)
    np.testing.assert_array_equal(before.value[:, :4], after.value[:, :4])
    assert not np.allclose(before.value[:, 4:], after.value[:, 4:])

    attn = model.h[0].attn
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 8)).astype(np.float32)
    with ag.no_grad():
        y = attn(ag.tensor(x)).value
    qkv = x @ attn.c_attn.weight.value.T + attn.c_attn.bias.value
    heads = []
    for h in range(2):
        q, k, v = (qkv[..., part * 8 + h * 4 : part * 8 + (h + 1) * 4] for part in range(3))
        scores = q @ k.transpose(0, 2, 1) / 2.0 + np.triu(np.full((6, 6), -np.inf), 1)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        heads.append(weights / weights.sum(-1, keepdims=True) @ v)
    expected = np.concatenate(heads, -1) @ attn.c_proj.weight.value.T + attn.c_proj.bias.value
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_the_lm_head_is_the_token_embedding_and_only_matrices_decay():
    ag.manual_seed(0)
    model = gpt.GPT(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=4)
    assert model.lm_head.weight is model.wte.weight
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.weight" not in names and len(names) == len(set(names))
    _, loss = model(np.array([[0, 1, 2, 3]]), np.array([[1, 2, 3, 4]]))
    loss.backward()
    assert model.wte.weight.grad[4].any()  # token 4 is never an input: its gradient comes from the head alone
    decay, no_decay = model.configure_optimizer(1e-3, 0.1, gpt.BETAS).param_groups
    assert decay["weight_decay"] == 0.1 and all(p.ndim == 2 for p in decay["params"])
    assert no_decay["weight_decay"] == 0.0 and all(p.ndim == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(names)


def test_bigram_baseline_is_the_smoothed_pair_frequency():
    text = gpt.Text("aab" * 40, block_size=4)  # 108 training characters, 12 for validation
    rows = text.tiling("val")
    assert text.decode(rows[0]) == "aabaa" and text.decode(rows[1]) == "abaab" and len(rows) == 2
    # Training pairs: a->a 36, a->b 36, b->a 35, b->b 0; add one to each count.
    p_ab, p_aa, p_ba = 37 / 74, 37 / 74, 36 / 37
    expected = -(3 * math.log(p_aa) + 3 * math.log(p_ab) + 2 * math.log(p_ba)) / 8
    assert gpt.bigram_loss(text, rows) == pytest.approx(expected)


def test_the_schedule_warms_up_linearly_then_follows_a_cosine():
    factor = gpt.cosine_with_warmup(warmup=10, steps=110, min_ratio=0.1)
    assert [factor(s) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert factor(10) == pytest.approx(1.0) and factor(60) == pytest.approx(0.55) and factor(110) == pytest.approx(0.1)


def test_loss_and_every_gradient_match_pytorch():
    """The same weights in PyTorch's functional ops: nanoGPT's forward, loss and gradients, in float32."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    ag.manual_seed(0)
    model = gpt.GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    for p in model.parameters():  # away from the initial zeros and ones, so every parameter matters
        p.value = p.value + np.random.default_rng(1).normal(0, 0.1, p.shape).astype(np.float32)
    rng = np.random.default_rng(2)
    idx, targets = rng.integers(0, 11, (3, 8)), rng.integers(0, 11, (3, 8))
    _, loss = model(idx, targets)
    loss.backward()

    w = {name: torch.tensor(p.value, requires_grad=True) for name, p in model.named_parameters()}
    x = w["wte.weight"][torch.tensor(idx)] + w["wpe.weight"][:8]
    for i in range(2):
        h = f"h.{i}."

        def ln(t, name):
            return F.layer_norm(t, (8,), w[name + ".weight"], w[name + ".bias"])

        def lin(t, name):
            return F.linear(t, w[name + ".weight"], w[name + ".bias"])

        q, k, v = lin(ln(x, h + "ln_1"), h + "attn.c_attn").split(8, dim=2)
        q, k, v = (t.view(3, 8, 2, 4).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(3, 8, 8)
        x = x + lin(y, h + "attn.c_proj")
        x = x + lin(F.gelu(lin(ln(x, h + "ln_2"), h + "mlp.c_fc"), approximate="tanh"), h + "mlp.c_proj")
    logits = F.linear(ln(x, "ln_f"), w["wte.weight"])
    expected = F.cross_entropy(logits.view(-1, 11), torch.tensor(targets).view(-1))
    expected.backward()

    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, w[name].grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


def test_help_names_the_demo_and_its_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpt.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "python -m demos.gpt" in text
    assert all(option in text for option in ("--quick", "--seed", "--text", "--temperature", "--top-k", "--prompt"))
