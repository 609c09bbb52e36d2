#!/usr/bin/env python3
"""How far can the n-gram first layer take a text network if only its readout is learned?

`first_layer: "ngrams"` (Sources/TernaryEvolution/Initialisation+Tokens.swift) starts each
hidden unit of a token network as a detector of the last L = 1-4 symbols of a random train
window: trit +1 for the window's symbol and -1 for the others at each of the last L positions,
so its sum is 2m - L for m matching symbols; a K-bit unit has step 1 and threshold
max(L - (2^K - 1), -L). This script draws `--hidden` such detectors the same way (numpy's
generator, not TernEvo's streams: the same distribution, not the same units), keeps them fixed,
and fits a softmax readout on their levels with Adam (no bias, as in TernEvo's output layer):
unconstrained float weights, or with `--readout ternary` ternary ones trained straight-through
(trits = clamp(round(w / mean|w|), -1, 1), times one learned scale, as TernEvo's STE arm). Its validation and test bits per character bound what any search of
the output layer alone can reach from this start; beside them, the trigram count table (add-0.01
smoothing, TernEvo's `references.csv` rule) on the same validation and test blocks.

The split is a `text` dataset's: the last `--test-fraction` of the characters is test, the
`--validation-fraction` before it validation, the rest train; the vocabulary is the train
block's characters plus one unseen symbol. Training uses `--train-windows` train windows
drawn at random (in random order, so read in sequence); validation and test are scored on their first `--eval-windows` windows.
About 2 minutes and 4 GB with the defaults.

    pip install numpy
    python3 scripts/ngram_readout_bound.py experiments/data/kjv/kjv.txt --bits 2
"""
import argparse

import numpy as np

from text_split import add_split_arguments, split_text

LENGTHS, PER_MILLE = [1, 2, 3, 4], [100, 300, 350, 250]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("text")
    parser.add_argument("--context", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--bits", type=int, default=2, help="K of the levels units (2...8)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--readout", choices=["float", "ternary"], default="float",
                        help="float weights, or ternary ones trained straight-through (absmean, a learned scale)")
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--train-windows", type=int, default=600_000)
    parser.add_argument("--eval-windows", type=int, default=100_000)
    add_split_arguments(parser)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    C, top = args.context, 2**args.bits - 1

    ids, V, validation_start, test_start = split_text(args.text, args)
    stream = np.array(ids, dtype=np.int16)
    blocks = {"train": stream[:validation_start], "validation": stream[validation_start:test_start],
              "test": stream[test_start:]}

    train = blocks["train"]
    units = []
    for _ in range(args.hidden):
        window = rng.integers(0, len(train) - C)
        length = min(C, rng.choice(LENGTHS, p=np.array(PER_MILLE) / 1000))
        units.append((train[window + C - length:window + C].copy(), length))

    def levels(block, starts):
        """Levels [windows][hidden] of the detectors and the next symbols of windows `starts`."""
        out = np.zeros((len(starts), args.hidden), dtype=np.float32)
        for j, (run, length) in enumerate(units):
            matches = sum((block[starts + C - length + k] == run[k]).astype(np.int32) for k in range(length))
            out[:, j] = np.clip(2 * matches - length - max(length - top, -length), 0, top)
        return out, block[starts + C].astype(np.int64)

    def first(block, count):
        return np.arange(min(count, len(block) - C))

    x_train, y_train = levels(train, rng.integers(0, len(train) - C, args.train_windows))
    evaluation = {name: levels(blocks[name], first(blocks[name], args.eval_windows)) for name in ("validation", "test")}

    def bits(w, x, y):
        z = x @ w.T
        z -= z.max(1, keepdims=True)
        return -(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1))).mean() / np.log(2)

    ternary = args.readout == "ternary"
    w = rng.uniform(-0.01, 0.01, (V, args.hidden)).astype(np.float32) if ternary else np.zeros((V, args.hidden), np.float32)
    m, v, step = np.zeros_like(w), np.zeros_like(w), 0
    log_scale, m_s, v_s = 0.0, 0.0, 0.0

    def trits(w):
        return np.clip(np.round(w / np.abs(w).mean()), -1, 1)

    def effective(w):
        """The readout as used: w itself, or its trits times exp(log_scale)."""
        return np.exp(log_scale) * trits(w) if ternary else w

    for epoch in range(args.epochs):
        for begin in range(0, len(y_train), 1024):
            x, y = x_train[begin:begin + 1024], y_train[begin:begin + 1024]
            used = trits(w) if ternary else w
            scale = np.exp(log_scale) if ternary else 1.0
            z = x @ (scale * used).T
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(y)), y] -= 1
            g = p.T @ x / len(y)
            step += 1
            if ternary:  # straight through the rounding; the scale by its own gradient
                g_s = float((g * used).sum()) * scale
                g = g * scale
                m_s, v_s = 0.9 * m_s + 0.1 * g_s, 0.999 * v_s + 0.001 * g_s * g_s
                log_scale -= 0.01 * (m_s / (1 - 0.9**step)) / (np.sqrt(v_s / (1 - 0.999**step)) + 1e-8)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w -= args.lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        scores = ", ".join(f"{name} {bits(effective(w), *evaluation[name]):.3f}" for name in evaluation)
        print(f"epoch {epoch + 1}: {args.readout} readout on {args.hidden} fixed {args.bits}-bit n-gram detectors: {scores} bpc",
              flush=True)

    counts = np.full((V, V, V), 0.01)
    np.add.at(counts, (train[:-2], train[1:-1], train[2:]), 1)
    table = np.log2(counts / counts.sum(2, keepdims=True))
    for name in ("validation", "test"):
        block = blocks[name]
        print(f"trigram counts (add-0.01) on {name}: {-table[block[:-2], block[1:-1], block[2:]].mean():.3f} bpc")


if __name__ == "__main__":
    main()
