"""A character-level GPT learns to write like Shakespeare: token and position embeddings, pre-norm transformer
blocks of multi-head causal self-attention and a GELU MLP with residual connections, and a language-model head
that shares the token embedding's weights, written as nanoGPT writes it. AdamW (weight decay on the matrices
only), gradient clipping at norm 1 and a cosine learning rate after a linear warm-up, as nanoGPT trains it.

    python -m demos.gpt                        # 4 layers, 4 heads, 64 wide, context 64: about 3.5 minutes
    python -m demos.gpt --text my_book.txt     # any UTF-8 text file: its characters are the vocabulary
    python -m demos.gpt --quick                # a few seconds: a tiny model, a few steps, every part once

The text is split 90/10 into training and validation characters. The number to beat is a count-based bigram
model fitted on the same training characters (add-one smoothed counts of each character pair): about the best a
model can do that sees only the previous character. Both are scored on the same validation targets, every character
of the validation split in windows of the context length, so the gap is what the transformer's longer context
and learned features buy. Measured with one BLAS thread (OPENBLAS_NUM_THREADS=1), seed 0: 1,500 steps of 32
windows of 64 characters at 112 ms per step, 186 s in all; the validation loss passes the bigram's 2.495
by step 200 and ends at 1.642 (training 1.593), 0.85 nats per character below it. No dropout: in 1,500 steps
the 208k parameters hardly overfit the 270k training characters (a gap of 0.05 nats).

Writes runs/gpt/: loss.png (training loss per step, training and validation loss at each evaluation, the
bigram's validation loss, the learning rate), graph.svg (one forward and backward pass of a tiny batch, ops
boxed by module), samples.txt and metrics.json. The default text is
demos/assets/tinyshakespeare.txt (see demos/assets/README.md: public domain).
"""

import math
import sys
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import optim
from demos.common import draw_graph, finish, parse_args, plot, plot_lines, run_folder
from nn import GELU, Embedding, LayerNorm
from nn.functional import scaled_dot_product_attention
from optim.lr_scheduler import LambdaLR

DEFAULT_TEXT = Path(__file__).parent / "assets" / "tinyshakespeare.txt"
# The model (n_layer blocks of n_head heads, n_embd wide, block_size characters of context) and its training:
# AdamW at a peak lr reached after `warmup` steps, annealed along a cosine to min_lr by the last step.
FULL = dict(
    n_layer=4, n_head=4, n_embd=64, block_size=64,
    batch_size=32, steps=1500, lr=3e-3, min_lr=3e-4, warmup=100, weight_decay=0.1, eval_every=100, eval_windows=128,
)  # fmt: skip
QUICK = dict(
    n_layer=2, n_head=2, n_embd=16, block_size=16,
    batch_size=8, steps=30, lr=1e-2, min_lr=1e-3, warmup=5, weight_decay=0.1, eval_every=10, eval_windows=32,
)  # fmt: skip
BETAS = (0.9, 0.99)  # nanoGPT's for its small character model: its batches are small, so a shorter memory
GRAD_CLIP = 1.0
VAL_FRACTION = 0.1


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd must be a multiple of n_head, got {n_embd} and {n_head}")
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # the query, key and value projections in one matrix
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head, self.n_embd = n_head, n_embd

    def forward(self, x):
        B, T, C = x.size()  # batch, time, channels
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # Every head at once: (B, T, C) -> (B, n_head, T, head size), so one batched matmul covers all heads.
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # the heads side by side again
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd: int):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    """x + attn(ln(x)), then x + mlp(ln(x)): pre-norm, so the residual stream itself is never normalized."""

    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int):
        super().__init__()
        self.block_size = block_size
        self.wte = Embedding(vocab_size, n_embd)  # token embedding
        self.wpe = Embedding(block_size, n_embd)  # position embedding
        self.h = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying: reading a token out is embedding it backwards
        # GPT-2's initialization: N(0, 0.02) weights, zero biases, and the projections that write into the
        # residual stream scaled by 1/sqrt(2 n_layer), so the stream's variance does not grow with depth.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * n_layer))
            elif name.endswith("weight") and p.ndim == 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"GPT: at most {self.block_size} positions of context, got {T}")
        x = self.wte(idx) + self.wpe(np.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = ag.cross_entropy(logits.reshape(B * T, -1), np.asarray(targets).reshape(-1))
        return logits, loss

    def configure_optimizer(self, lr: float, weight_decay: float, betas: tuple) -> optim.AdamW:
        """AdamW decaying the matrices (linear weights, embeddings) but not the biases and LayerNorm gains."""
        params = list(self.parameters())
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        return optim.AdamW(groups, lr=lr, betas=betas)

    def generate(self, idx, max_new_tokens: int, rng, temperature: float = 1.0, top_k: int | None = None):
        """Extend the (B, T) indices `idx` by max_new_tokens sampled tokens, each from the last block_size."""
        with ag.no_grad():
            for _ in range(max_new_tokens):
                logits, _ = self(idx[:, -self.block_size :])
                logits = logits.value[:, -1, :].astype(np.float64) / temperature
                if top_k is not None:
                    kth = np.sort(logits, axis=-1)[:, -min(top_k, logits.shape[-1]), None]
                    logits = np.where(logits < kth, -np.inf, logits)
                probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
                probs /= probs.sum(axis=-1, keepdims=True)
                nxt = np.array([[rng.choice(len(p), p=p)] for p in probs])
                idx = np.concatenate([idx, nxt], axis=1)
        return idx


def cosine_with_warmup(warmup: int, steps: int, min_ratio: float):
    """lr multiplier at step s: linear from 1/warmup to 1 over `warmup` steps, then a cosine down to min_ratio."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min((step - warmup) / max(steps - warmup, 1), 1.0)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class Text:
    """A text as character indices, split into training and validation parts, and batches of windows."""

    def __init__(self, text: str, block_size: int):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}
        data = self.encode(text)
        split = int(len(data) * (1 - VAL_FRACTION))
        self.train, self.val = data[:split], data[split:]
        if len(self.val) < block_size + 1:
            raise ValueError(
                f"the text is too short: its validation tenth needs at least {block_size + 1} characters, "
                f"got {len(self.val)} of {len(data)} in all"
            )
        self.block_size = block_size

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        return "".join(self.chars[i] for i in indices)

    def windows(self, split: str) -> np.ndarray:
        """Every (block_size + 1)-character window of a split: inputs are [:-1], targets [1:]."""
        data = self.train if split == "train" else self.val
        return np.lib.stride_tricks.sliding_window_view(data, self.block_size + 1)

    def batch(self, split: str, batch_size: int, rng) -> tuple:
        rows = self.windows(split)[rng.integers(0, len(self.windows(split)), batch_size)]
        return rows[:, :-1], rows[:, 1:]

    def tiling(self, split: str, limit: int | None = None) -> np.ndarray:
        """Non-overlapping windows that cover the split (every `limit`-th share of them when limited)."""
        rows = self.windows(split)[:: self.block_size]
        if limit is not None and len(rows) > limit:
            rows = rows[np.linspace(0, len(rows) - 1, limit).astype(int)]
        return rows


def mean_loss(model: GPT, rows: np.ndarray, batch_size: int) -> float:
    """The mean cross-entropy of the model over the targets of `rows`, without recording a graph."""
    total = 0.0
    with ag.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            _, loss = model(chunk[:, :-1], chunk[:, 1:])
            total += loss.item() * chunk[:, 1:].size
    return total / rows[:, 1:].size


def bigram_loss(text: Text, rows: np.ndarray) -> float:
    """Count-based bigram baseline: P(next | previous) from add-one smoothed pair counts of the training split,
    scored (mean negative log-likelihood) on the targets of `rows`, each given the character before it."""
    vocab = len(text.chars)
    counts = np.ones((vocab, vocab))
    np.add.at(counts, (text.train[:-1], text.train[1:]), 1)
    log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-log_probs[rows[:, :-1], rows[:, 1:]].mean())


def train(model: GPT, text: Text, config: dict, rng) -> dict:
    """The training loop; returns the history of losses, learning rates and evaluations."""
    optimizer = model.configure_optimizer(config["lr"], config["weight_decay"], BETAS)
    schedule = cosine_with_warmup(config["warmup"], config["steps"], config["min_lr"] / config["lr"])
    scheduler = LambdaLR(optimizer, schedule)
    eval_rows = {split: text.tiling(split, config["eval_windows"]) for split in ("train", "val")}
    history = dict(loss=[], lr=[], grad_norm=[], step_ms=[], eval_step=[], eval_train=[], eval_val=[])

    def evaluate(step):
        history["eval_step"].append(step)
        for split in ("train", "val"):
            history[f"eval_{split}"].append(mean_loss(model, eval_rows[split], config["batch_size"]))
        print(
            f"step {step:>5}: train loss {history['eval_train'][-1]:.3f}, val loss {history['eval_val'][-1]:.3f}",
            flush=True,
        )

    evaluate(0)
    for step in range(1, config["steps"] + 1):
        started = time.perf_counter()
        x, y = text.batch("train", config["batch_size"], rng)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        history["step_ms"].append(1000 * (time.perf_counter() - started))
        history["loss"].append(loss.item())
        history["grad_norm"].append(norm)
        if step % config["eval_every"] == 0 or step == config["steps"]:
            evaluate(step)
    return history


def draw_one_step(model: GPT, text: Text, path: Path):
    """One forward and backward pass of 2 windows of 8 characters, ops boxed by module."""
    rows = text.windows("train")[:2, :9]
    with ag.record_grad_stats(), nn.record_scopes(model) as scopes:
        _, loss = model(rows[:, :-1], rows[:, 1:])
        loss.backward()
    model.zero_grad()
    return draw_graph(loss, path, params=dict(model.named_parameters()), clusters=scopes.clusters)


def loss_picture(history: dict, bigram: float, path: Path) -> str:
    steps = np.arange(1, len(history["loss"]) + 1)
    window = max(1, min(25, len(steps) // 5))
    smoothed = np.convolve(history["loss"], np.ones(window) / window, "valid")
    panels = [
        dict(
            title="cross-entropy (nats per character)",
            xlabel="step",
            ylabel="loss",
            lines={
                f"training batches (mean of {window})": (steps[window - 1 :], smoothed),
                "training split": (history["eval_step"], history["eval_train"]),
                "validation split": (history["eval_step"], history["eval_val"]),
                "bigram baseline (validation)": (steps, np.full(len(steps), bigram)),
            },
        ),
        dict(title="learning rate", xlabel="step", ylabel="lr", lines={"AdamW lr": (steps, history["lr"])}),
    ]
    return plot_lines(path, panels, title="character-level GPT")


def main(argv=None) -> int:
    started = time.perf_counter()
    options = [
        (("--text",), dict(type=Path, default=DEFAULT_TEXT, help="UTF-8 text to train on (default: tiny shakespeare)")),
        (("--steps",), dict(type=int, default=None, help="training steps (default: 1500; 30 with --quick)")),
        (
            ("--sample-chars",),
            dict(type=int, default=None, help="characters to sample (default: 600; 80 with --quick)"),
        ),
        (("--temperature",), dict(type=float, default=0.8, help="sampling temperature (default: 0.8)")),
        (("--top-k",), dict(type=int, default=None, help="sample among the k likeliest characters (default: all)")),
        (
            ("--prompt",),
            dict(default=None, help="text the samples continue (default: a newline, else the first character)"),
        ),
    ]
    args = parse_args("gpt", __doc__, argv, options)
    config = dict(QUICK if args.quick else FULL)
    for name, value, low in (
        ("--steps", args.steps, 1),
        ("--sample-chars", args.sample_chars, 0),
        ("--top-k", args.top_k, 1),
    ):
        if value is not None and value < low:
            print(f"error: {name} must be at least {low}, got {value}", file=sys.stderr)
            return 2
    if not args.temperature > 0:
        print(f"error: --temperature must be positive, got {args.temperature}", file=sys.stderr)
        return 2
    if args.steps is not None:
        config["steps"] = args.steps
    sample_chars = args.sample_chars if args.sample_chars is not None else (80 if args.quick else 600)
    try:
        text = Text(args.text.read_text(encoding="utf-8"), config["block_size"])
    except (OSError, UnicodeDecodeError, ValueError) as error:
        print(f"error: {args.text}: {error}", file=sys.stderr)
        return 2
    if args.prompt is None:
        args.prompt = "\n" if "\n" in text.index else text.chars[text.train[0]]
    if not args.prompt or not set(args.prompt) <= set(text.chars):
        print(f"error: --prompt needs one or more characters of the text, got {args.prompt!r}", file=sys.stderr)
        return 2
    prompt = text.encode(args.prompt)
    out = run_folder(args.out)

    ag.manual_seed(args.seed)  # initial weights
    rng = np.random.default_rng(args.seed)  # batches
    model = GPT(len(text.chars), config["block_size"], config["n_layer"], config["n_head"], config["n_embd"])
    parameters = sum(p.value.size for p in model.parameters())
    print(
        f"{args.text.name}: {len(text.train):,} training and {len(text.val):,} validation characters, "
        f"a vocabulary of {len(text.chars)}\nmodel: {parameters:,} parameters\n{model}"
    )
    val_rows = text.tiling("val")
    bigram = bigram_loss(text, val_rows)
    print(f"bigram baseline (add-one smoothed counts of the training split): validation loss {bigram:.3f}")

    trained = time.perf_counter()
    history = train(model, text, config, rng)
    train_time = time.perf_counter() - trained
    val_loss = mean_loss(model, val_rows, 64)
    train_loss = mean_loss(model, text.tiling("train"), 64)
    step_ms = float(np.median(history["step_ms"]))

    model.eval()
    sample_rng = np.random.default_rng(args.seed)
    generated = model.generate(prompt[None, :], sample_chars, sample_rng, args.temperature, args.top_k)
    sample = text.decode(generated[0, len(prompt) :])
    print(f"\nsample (temperature {args.temperature}, top-k {args.top_k}, seed {args.seed}):\n{args.prompt}{sample}\n")
    (out / "samples.txt").write_text(args.prompt + sample + "\n", encoding="utf-8")

    files = {
        "loss": plot("loss curves", loss_picture, history, bigram, out / "loss.png"),
        "graph": draw_one_step(model, text, out / "graph.svg"),
        "samples": out / "samples.txt",
    }
    gap = bigram - val_loss
    print(
        f"{config['steps']} steps of {config['batch_size']}x{config['block_size']} characters in {train_time:.1f} s "
        f"({step_ms:.0f} ms per step): training loss {train_loss:.3f}, validation loss {val_loss:.3f} against the "
        f"bigram's {bigram:.3f}: {abs(gap):.3f} nats per character {'below' if gap > 0 else 'above'} it"
    )
    metrics = {
        "val_loss": val_loss,
        "train_loss": train_loss,
        "bigram_val_loss": bigram,
        "gap_to_bigram": gap,
        "steps": config["steps"],
        "step_time_ms": round(step_ms, 1),
        "train_time_s": round(train_time, 2),
        "parameters": parameters,
        "vocabulary": "".join(text.chars),
        "sample": sample,
        "history": {k: np.round(v, 5) for k, v in history.items() if k != "step_ms"},
    }
    settings = {
        "text": str(args.text),
        "model": "GPT: token and position embeddings, pre-norm blocks of causal self-attention and a GELU MLP, "
        "final LayerNorm, lm head tied to the token embedding; float32",
        "optimizer": f"AdamW, betas {BETAS}, weight decay on the matrices only, gradients clipped at norm "
        f"{GRAD_CLIP}, linear warm-up then cosine to min_lr",
        "baseline": "bigram: add-one smoothed counts of the training split's character pairs",
        **config,
        "sample_chars": sample_chars,
        "temperature": args.temperature,
        "top_k": args.top_k,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
