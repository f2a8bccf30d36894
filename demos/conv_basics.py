"""Convolutions with hand-set weights, as in the course's first conv exercise: a 1x1 convolution with the
luminance weights turns an RGB image grey, and two 3x3 Sobel kernels find its vertical and horizontal
edges. The image is drawn in numpy (shapes on a shaded background), so nothing is downloaded. Finally a
3x3 convolution trained by gradient descent to reproduce the Sobel-x output learns the Sobel kernel.

    python -m demos.conv_basics            # about 2 s
    python -m demos.conv_basics --quick    # a smaller image, fewer training steps

Writes runs/conv_basics/: filters.png (input, grey, Sobel x, Sobel y, edge magnitude), kernels.png
(the hand-set Sobel-x kernel next to the learned one), each image alone under images/, and metrics.json
(the largest difference from a plain numpy computation, and the learned kernel's error).
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import finish, parse_args, plot, run_folder, tile_pictures

FULL = dict(size=96, steps=300, lr=0.05)
QUICK = dict(size=32, steps=30, lr=0.05)
LUMINANCE = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, what PIL's convert("L") uses
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)  # responds to left-to-right changes


def make_image(size: int) -> np.ndarray:
    """(3, size, size) float32 RGB in [0, 1]: a red disc, a green square and a yellow triangle on a blue ramp."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    image = np.stack([0.1 + 0.0 * cols, 0.2 + 0.2 * rows, 0.4 + 0.4 * cols])  # a smooth ramp has weak edges
    shapes = [
        ((rows - 0.3) ** 2 + (cols - 0.3) ** 2 < 0.2**2, (0.9, 0.1, 0.1)),
        ((abs(rows - 0.7) < 0.15) & (abs(cols - 0.3) < 0.15), (0.1, 0.8, 0.2)),
        ((rows > 0.55) & (rows < 0.9) & (abs(cols - 0.72) < (rows - 0.55) * 0.6), (0.95, 0.9, 0.1)),
    ]
    for mask, colour in shapes:
        image[:, mask] = np.array(colour)[:, None]
    return image.astype(np.float32)


def correlate_numpy(padded: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The reference: 3x3 cross-correlation of an image padded by one pixel, written out over the nine shifts."""
    h, w = padded.shape[0] - 2, padded.shape[1] - 2
    return sum(kernel[i, j] * padded[i : i + h, j : j + w] for i in range(3) for j in range(3))


def learn_sobel_x(padded: np.ndarray, target: np.ndarray, config: dict, seed: int) -> tuple:
    """Fit a 3x3 conv (no bias) to map the padded grey image to its Sobel-x response; returns (kernel, losses)."""
    autograd.manual_seed(seed)
    conv = nn.Conv2d(1, 1, 3, bias=False)
    optimizer = optim.Adam(conv.parameters(), lr=config["lr"])
    losses = []
    for _ in range(config["steps"]):
        loss = autograd.mse_loss(conv(padded[None, None]), target[None, None])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return conv.weight.value[0, 0].copy(), losses


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("conv_basics", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    image = make_image(config["size"])

    to_grey = nn.Conv2d(3, 1, 1, bias=False)
    to_grey.load_state_dict({"weight": LUMINANCE.reshape(1, 3, 1, 1)})
    sobel = nn.Conv2d(1, 2, 3, bias=False)  # out channel 0: x edges, 1: y edges (the transpose)
    sobel.load_state_dict({"weight": np.stack([SOBEL_X, SOBEL_X.T])[:, None]})
    with autograd.no_grad():
        grey = to_grey(image[None]).value[0, 0]
        # Repeating the border pixels, instead of the conv's zero padding, keeps a false edge off the frame.
        padded = np.pad(grey, 1, mode="edge")
        edges = sobel(padded[None, None])
        magnitude = autograd.sqrt((edges * edges).sum(axis=1)).value[0]
        edges = edges.value[0]

    errors = {
        "grey_vs_numpy": float(np.abs(grey - np.einsum("c,chw->hw", LUMINANCE, image)).max()),
        "sobel_x_vs_numpy": float(np.abs(edges[0] - correlate_numpy(padded, SOBEL_X)).max()),
        "sobel_y_vs_numpy": float(np.abs(edges[1] - correlate_numpy(padded, SOBEL_X.T)).max()),
    }
    learned, losses = learn_sobel_x(padded, edges[0], config, args.seed)
    print("largest difference from numpy: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
    print(
        f"learned Sobel x in {config['steps']} Adam steps: loss {losses[0]:.3g} -> {losses[-1]:.3g}, "
        f"largest kernel error {np.abs(learned - SOBEL_X).max():.3f}\n{learned.round(2)}"
    )

    images = run_folder(out / "images")
    panels = {
        "input (RGB)": image[None],
        "grey (1x1 conv)": grey[None],
        "Sobel x": edges[0][None],
        "Sobel y": edges[1][None],
        "edge magnitude": magnitude[None],
    }
    singles = [
        plot(title, autograd.viz.image_grid, array, images / f"{i}.png")
        for i, (title, array) in enumerate(panels.items())
    ]
    kernels = [
        plot("kernel", autograd.viz.image_grid, k[None], images / f"{name}.png")
        for name, k in (("sobel_x", SOBEL_X), ("learned", learned))
    ]
    files = {"filters": None, "kernels": None}
    if None not in singles + kernels:  # matplotlib is there
        files["filters"] = tile_pictures(
            out / "filters.png", singles, len(singles), list(panels), "hand-set convolutions"
        )
        files["kernels"] = tile_pictures(
            out / "kernels.png", kernels, 2, ["Sobel x (hand-set)", f"learned in {config['steps']} steps"]
        )
    metrics = {
        "max_abs_error": errors,
        "learned_kernel": learned,
        "learned_kernel_max_error": float(np.abs(learned - SOBEL_X).max()),
        "learning_loss_first_last": [losses[0], losses[-1]],
    }
    settings = {
        "image": f"synthetic RGB {config['size']}x{config['size']}",
        "grey": "1x1 conv, BT.601 weights",
        "edges": "3x3 Sobel on the grey image padded by repeating its border",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
