#!/usr/bin/env python3
"""Compare `ternevo bench --json` between builds or instruction sets, in alternating rounds.

Each variant is NAME=BINARY, optionally with an instruction set: NAME=BINARY@avx2 runs the
binary with TERNEVO_ISA=avx2. Every round runs each variant once, in turn, with the same bench
arguments; the table gives each variant's median over the rounds and its ratio to the first
variant. On a shared machine single runs vary by tens of percent from one minute to the next,
so only ratios measured this way, in one sitting, mean anything.

Examples:
  git worktree add /tmp/old <commit> && (cd /tmp/old && swift build -c release)
  python3 scripts/bench_compare_builds.py --rounds 3 --args "--shape 784-256-10 --repeats 3" \\
      old=/tmp/old/.build/release/ternevo new=.build/release/ternevo new-avx2=.build/release/ternevo@avx2
  python3 scripts/bench_compare_builds.py --rounds 3 --args "--delta --repeats 3" old=... new=...
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

# The figure each row kind is compared on (higher is better unless noted).
FIGURES = {
    "ternary": "genome_evals_per_s",
    "float": "genome_evals_per_s",
    "delta": "candidates_per_s",
    "delta-text": "candidates_per_s",
    "ste-epoch": "seconds_per_epoch",
    "float-epoch": "seconds_per_epoch",
    "peak-popcount": "synaptic_ops_per_s",
    "peak-add": "synaptic_ops_per_s",
    "peak-fma": "synaptic_ops_per_s",
    "peak-fma-wide": "synaptic_ops_per_s",
    "ga": "genome_evals_per_s",
}


def row_key(row):
    return (row.get("kind"), row.get("shape") or "", row.get("threads"), row.get("move") or "")


def run(binary, isa, arguments):
    environment = dict(os.environ)
    if isa:
        environment["TERNEVO_ISA"] = isa
    result = subprocess.run([binary, "bench", "--json"] + arguments, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        sys.exit(f"bench_compare_builds: {binary} failed ({result.returncode}): {result.stderr.strip()[-400:]}")
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="+", help="NAME=BINARY or NAME=BINARY@ISA; the first is the baseline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--args", default="--repeats 3", help="arguments for `ternevo bench --json`")
    options = parser.parse_args()
    variants = []
    for text in options.variants:
        name, _, target = text.partition("=")
        if not target:
            sys.exit(f"bench_compare_builds: '{text}' is not NAME=BINARY[@ISA]")
        binary, _, isa = target.partition("@")
        if not os.access(binary, os.X_OK):
            sys.exit(f"bench_compare_builds: {binary} is not an executable")
        variants.append((name, binary, isa))
    figures = {}  # key -> name -> [values]
    for round_index in range(options.rounds):
        for name, binary, isa in variants:
            for row in run(binary, isa, options.args.split()):
                figure = FIGURES.get(row.get("kind"))
                if figure and row.get(figure) is not None:
                    figures.setdefault(row_key(row), {}).setdefault(name, []).append(row[figure])
        print(f"round {round_index + 1} of {options.rounds} done", file=sys.stderr)
    names = [name for name, _, _ in variants]
    print(f"medians of {options.rounds} alternating rounds of `ternevo bench --json {options.args}`; ratio = variant / {names[0]}")
    print("kind          shape              threads move         " + "".join(f"{n:>14}" for n in names)
          + "".join(f"{n + '/' + names[0]:>18}" for n in names[1:]))
    for key, by_name in figures.items():
        kind, shape, threads, move = key
        medians = {n: statistics.median(v) for n, v in by_name.items()}
        cells = "".join(f"{medians[n]:>14.4g}" if n in medians else f"{'-':>14}" for n in names)
        base = medians.get(names[0])
        ratios = "".join(f"{medians[n] / base:>17.2f}x" if base and n in medians else f"{'-':>18}" for n in names[1:])
        print(f"{kind:<13} {shape:<18} {threads!s:>7} {move:<12} {cells}{ratios}")
    print("(seconds_per_epoch for epoch rows: lower is faster; every other figure: higher is faster)")


if __name__ == "__main__":
    main()
