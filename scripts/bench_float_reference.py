#!/usr/bin/env python3
"""Population-batched float32 forward passes through numpy (BLAS), the reference for `ternevo bench`.

For each shape it times P genomes, each with its own float32 weights, evaluated on one batch of
B examples: per genome and layer one BLAS matrix product (B x n_in) @ (n_in x n_out) into a
preallocated buffer, a bias add and a ReLU in place (cheap activations so the products dominate,
as in the ternary kernels). It prints genome evaluations per second (P / seconds) and synaptic
operations per second (multiply-adds: P * B * weights / seconds), the median of several runs,
with 1 thread and with all cores. The thread count of OpenBLAS is fixed when numpy loads, so each
thread count runs in a child process.

    python3 scripts/bench_float_reference.py            # table
    python3 scripts/bench_float_reference.py --json     # one JSON array, keys as `ternevo bench --json`

    # ratios ternary / numpy from a saved `ternevo bench --json`:
    swift run -c release ternevo bench --json > ternary.json
    python3 scripts/bench_float_reference.py --compare ternary.json

    # or measured here, alternating rounds of both (shared machines are noisy: each round
    # measures both sides back to back, and the median ratio over rounds is reported):
    swift build -c release
    python3 scripts/bench_float_reference.py --rounds 3 --ternevo .build/release/ternevo
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SHAPES = [[64, 128, 10], [784, 256, 10], [256, 1024, 1024, 10]]
POPULATION = 256
BATCH = 256


def measure(threads, repeats, min_seconds):
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for shape in SHAPES:
        weights = [[rng.standard_normal((n_in, n_out), dtype=np.float32)
                    for n_in, n_out in zip(shape[:-1], shape[1:])] for _ in range(POPULATION)]
        biases = [rng.standard_normal(n, dtype=np.float32) for n in shape[1:]]
        x = rng.integers(0, 256, size=(BATCH, shape[0])).astype(np.float32) / 255.0
        buffers = [np.empty((BATCH, n), dtype=np.float32) for n in shape[1:]]
        synapses = sum(a * b for a, b in zip(shape[:-1], shape[1:]))

        def forward_population():
            for genome in weights:
                h = x
                for layer, (w, b, out) in enumerate(zip(genome, biases, buffers)):
                    np.matmul(h, w, out=out)
                    out += b
                    if layer < len(genome) - 1:
                        np.maximum(out, 0, out=out)
                    h = out
            return h

        forward_population()  # warm up
        times = []
        for _ in range(repeats):
            passes, start = 0, time.perf_counter()
            while True:
                forward_population()
                passes += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_seconds:
                    break
            times.append(elapsed / passes)
        seconds = statistics.median(times)
        rows.append({
            "shape": "-".join(map(str, shape)),
            "kind": "float",
            "source": "numpy",
            "threads": threads,
            "population": POPULATION,
            "batch": BATCH,
            "genome_evals_per_s": POPULATION / seconds,
            "synaptic_ops_per_s": POPULATION * BATCH * synapses / seconds,
        })
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    parser.add_argument("--threads", type=int, help="(internal) measure with this many threads")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure; the median is kept")
    parser.add_argument("--min-seconds", type=float, default=0.3, help="least time per run")
    parser.add_argument("--rounds", type=int, default=0,
                        help="alternate N rounds of `ternevo bench --json` and numpy; print median ratios")
    parser.add_argument("--ternevo", default=".build/release/ternevo", help="the ternevo binary for --rounds")
    parser.add_argument("--compare", metavar="TERNARY_JSON",
                        help="output of `ternevo bench --json`: print ternary / numpy ratios per shape and thread count")
    args = parser.parse_args()

    if args.threads is not None:
        print(json.dumps(measure(args.threads, args.repeats, args.min_seconds)))
        return

    if args.rounds > 0:
        compare_rounds(args)
        return

    rows = measure_all(args)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    if args.compare:
        with open(args.compare) as f:
            ternary = [r for r in json.load(f) if r.get("kind") == "ternary"]
        print(f"ternary (ternevo bench) vs numpy float32, genome evaluations per second")
        print(f"{'shape':<22}{'threads':>8}{'ternary':>12}{'numpy':>12}{'ratio':>9}")
        for row in rows:
            match = [t for t in ternary if t["shape"] == row["shape"] and t["threads"] == row["threads"]]
            if not match:
                continue
            t, f = match[0]["genome_evals_per_s"], row["genome_evals_per_s"]
            print(f"{row['shape']:<22}{row['threads']:>8}{t:>12,.0f}{f:>12,.0f}{t / f:>8.1f}x")
        return
    print(f"numpy float32 population-batched forward (P = {POPULATION} genomes, B = {BATCH} examples)")
    print(f"{'shape':<22}{'threads':>8}{'genome evals/s':>18}{'synaptic ops/s':>18}")
    for row in rows:
        print(f"{row['shape']:<22}{row['threads']:>8}{row['genome_evals_per_s']:>18,.0f}"
              f"{row['synaptic_ops_per_s']:>18.3e}")


def measure_all(args):
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, __file__, "--threads", str(threads),
                              "--repeats", str(args.repeats), "--min-seconds", str(args.min_seconds)],
                             env=env, check=True, capture_output=True, text=True).stdout
        rows.extend(json.loads(out))
    return rows


def compare_rounds(args):
    ratios = {}
    for round_index in range(args.rounds):
        out = subprocess.run([args.ternevo, "bench", "--json", "--repeats", str(args.repeats)],
                             check=True, capture_output=True, text=True).stdout
        ternary = [r for r in json.loads(out) if r.get("kind") == "ternary"]
        for row in measure_all(args):
            match = [t for t in ternary if t["shape"] == row["shape"] and t["threads"] == row["threads"]]
            if match:
                key = (row["shape"], row["threads"])
                ratios.setdefault(key, []).append(
                    (match[0]["genome_evals_per_s"], row["genome_evals_per_s"]))
        print(f"round {round_index + 1} of {args.rounds} done", file=sys.stderr)
    print(f"ternary (ternevo bench) vs numpy float32, genome evaluations per second, "
          f"{args.rounds} alternating rounds: medians")
    print(f"{'shape':<22}{'threads':>8}{'ternary':>12}{'numpy':>12}{'ratio':>9}  ratios per round")
    for (shape, threads), pairs in ratios.items():
        t = statistics.median(p[0] for p in pairs)
        f = statistics.median(p[1] for p in pairs)
        r = statistics.median(p[0] / p[1] for p in pairs)
        per_round = " ".join(f"{p[0] / p[1]:.1f}" for p in pairs)
        print(f"{shape:<22}{threads:>8}{t:>12,.0f}{f:>12,.0f}{r:>8.1f}x  {per_round}")


if __name__ == "__main__":
    main()
