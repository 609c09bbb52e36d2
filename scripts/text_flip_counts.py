#!/usr/bin/env python3
"""Why a first-layer move of a token network is not 10x cheaper than one of a dense-byte network.

Optional tooling (numpy): a model of the `delta-text` rows of `ternevo bench --delta`, counting
what a first-layer trit move touches rather than timing it. Both networks have the bench's text
shape (8 x V one-hot inputs, 256 hidden, random ternary weights with a third zeros, thresholds at
the upper median of each neuron's sums, as `calibrateThresholds` sets them) and B = 20,000
examples: the first windows of the shipped KJV slice, and random bytes with 80% zeros. For random
moves (a row, a column, a new trit) it prints the mean number of examples whose sum changes (the
scorer visits them) and of those whose hidden sign flips (each costs an O(C) recomputation of its
logits and loss at the output).

    python3 scripts/text_flip_counts.py [--moves 4096] [--seed 1]
"""
import argparse
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
SLICE = ROOT / "experiments" / "data" / "kjv-pentateuch.txt"


def upper_median(sums):
    """Per neuron (column), the value at index B // 2 of its sorted sums."""
    return np.sort(sums, axis=0)[sums.shape[0] // 2]


def random_weights(rng, rows, columns):
    return rng.choice(np.array([-1, 0, 1], dtype=np.int32), size=(rows, columns))


def count(rng, inputs_of, sums, thresholds, weights, moves):
    """Mean examples touched and flipped by `moves` random first-layer trit moves."""
    rows, columns = weights.shape
    touched = flipped = 0
    for _ in range(moves):
        k, j = rng.integers(rows), rng.integers(columns)
        old = weights[k, j]
        new = rng.choice([v for v in (-1, 0, 1) if v != old])
        x = inputs_of(j)  # (examples, values) whose input j is not zero
        examples, values = x
        s = sums[examples, k]
        after = s + (new - old) * values
        touched += len(examples)
        flipped += int(np.count_nonzero((s >= thresholds[k]) != (after >= thresholds[k])))
    return touched / moves, flipped / moves


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    B, K, hidden = args.examples, 8, 256

    text = SLICE.read_text(encoding="utf-8")
    train = text[: int(len(text) * 0.85)]
    vocabulary = sorted(set(train))
    index = {c: i for i, c in enumerate(vocabulary)}
    tokens = np.array([index[c] for c in train[: B + K]], dtype=np.int32)
    V = len(vocabulary) + 1  # plus the reserved symbol for characters unseen in training
    columns = np.stack([p * V + tokens[p:p + B] for p in range(K)], axis=1)  # (B, K)
    weights = random_weights(rng, hidden, K * V)
    sums = weights[:, columns].sum(axis=2).T  # (B, hidden)
    thresholds = upper_median(sums)
    by_column = [np.nonzero(columns[:, j // V] == j)[0] for j in range(K * V)]
    token = count(rng, lambda j: (by_column[j], 1), sums, thresholds, weights, args.moves)

    n0 = K * V
    dense = np.where(rng.random((B, n0)) < 0.8, 0, rng.integers(1, 256, size=(B, n0))).astype(np.int32)
    dense_weights = random_weights(rng, hidden, n0)
    dense_sums = dense @ dense_weights.T
    dense_thresholds = upper_median(dense_sums)
    nonzero = [np.nonzero(dense[:, j])[0] for j in range(n0)]
    byte = count(rng, lambda j: (nonzero[j], dense[nonzero[j], j]), dense_sums, dense_thresholds,
                 dense_weights, args.moves)

    print(f"shape {n0}-{hidden}-{V}, B = {B}, {args.moves} random first-layer moves each")
    print(f"  token inputs (KJV slice windows): {token[0]:8.1f} examples visited, {token[1]:6.1f} flipped "
          f"({100 * token[1] / token[0]:.1f}% of those visited)")
    print(f"  dense bytes (80% zeros):          {byte[0]:8.1f} examples visited, {byte[1]:6.1f} flipped "
          f"({100 * byte[1] / byte[0]:.1f}%)")
    print(f"  ratios dense / token: visited {byte[0] / token[0]:.1f}x, flipped {byte[1] / token[1]:.1f}x")


if __name__ == "__main__":
    main()
