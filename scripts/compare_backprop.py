#!/usr/bin/env python3
"""Our backprop baselines against the PyTorch recipe, in one sitting, over several seeds.

For each seed it runs `ternevo train` and `scripts/ste_reference.py` with the same data,
split, architecture and recipe, one after the other (ours first on odd seeds, PyTorch
first on even ones, so slow phases of a shared machine hit both), and parses their summary
lines. It prints, per seed and as means over seeds: training seconds per epoch, the best
test accuracy, and the training time to 90% and 95% test accuracy, with the ratio ours /
PyTorch. A mean time-to-accuracy is shown only when every seed reached the target.

    swift build -c release
    python3 scripts/compare_backprop.py experiments/data/digits.csv --arm ste --epochs 30
    python3 scripts/compare_backprop.py experiments/data/mnist5k/mnist5k.csv --hidden 256 --epochs 20

Needs PyTorch (`pip install -r scripts/requirements.txt`). `--json FILE` also writes the
per-seed figures.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERNS = {
    "epochs": re.compile(r"^epochs (\d+), ([0-9.]+) s training \(([0-9.]+) s per epoch\)"),
    "best": re.compile(r"^best test accuracy ([0-9.]+)% \(epoch (\d+)\)"),
    "reach": re.compile(r"^training time to (\d+)% test accuracy: (?:([0-9.]+) s|not reached)"),
}


def parse(output, command):
    figures = {}
    for line in output.splitlines():
        if m := PATTERNS["epochs"].match(line):
            figures["epochs"], figures["seconds"], figures["per_epoch"] = int(m[1]), float(m[2]), float(m[3])
        elif m := PATTERNS["best"].match(line):
            figures["best"], figures["best_epoch"] = float(m[1]), int(m[2])
        elif m := PATTERNS["reach"].match(line):
            figures[f"to{m[1]}"] = float(m[2]) if m[2] else None
    if not {"per_epoch", "best", "to90", "to95"} <= figures.keys():
        sys.exit(f"compare_backprop: could not read the summary of: {' '.join(command)}\n{output}")
    return figures


def run(command, curves=None):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_backprop: {' '.join(command)} failed ({done.returncode}):\n{done.stderr.strip()}")
    return parse_curves(curves) if curves else parse(done.stdout, command)


def parse_curves(path):
    """Our figures from a run folder's curves.csv: seconds per epoch, the best test accuracy
    over the logged epochs (every epoch here) and the training time to 90% and 95%."""
    import csv
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    epochs, seconds = int(rows[-1]["step"]), float(rows[-1]["wall_s"])
    best = max(rows, key=lambda row: float(row["test_acc"]))
    figures = {"epochs": epochs, "seconds": seconds, "per_epoch": seconds / epochs,
               "best": 100 * float(best["test_acc"]), "best_epoch": int(best["step"])}
    for target in (90, 95):
        reached = [float(row["wall_s"]) for row in rows if float(row["test_acc"]) * 100 >= target]
        figures[f"to{target}"] = reached[0] if reached else None
    return figures


def mean_of(rows, key):
    """The mean over seeds, or None and how many seeds reached the target."""
    values = [row[key] for row in rows]
    if any(v is None for v in values):
        reached = sum(v is not None for v in values)
        return None, f"{reached}/{len(values)} reached"
    return statistics.fmean(values), None


def median_of(rows, key):
    """The median over seeds, a seed that never reached the target counting as slowest; None
    when half or more never reached it."""
    values = sorted(float("inf") if row[key] is None else row[key] for row in rows)
    median = statistics.median(values)
    return None if median == float("inf") else median


def print_seed(name, figures):
    print(f"seed {figures['seed']} {name:8s} {figures['per_epoch']:.4f} s/epoch  best {figures['best']:.2f}% "
          f"(epoch {figures['best_epoch']})  to 90%: {figures['to90']}  to 95%: {figures['to95']}", flush=True)


def print_table(results, args):
    print(f"\n{args['arm']} {args['hidden']} on {args['data']}, {args['epochs']} epochs, lr {args['lr']}, "
          f"batch {args['batch']}, seeds {args['seeds']}")
    print("| figure | TernEvo | PyTorch | ours / PyTorch |\n|---|---|---|---|")
    rows = [("per_epoch", "s per epoch (mean)", "s", mean_of), ("best", "best test accuracy (mean)", "%", mean_of)]
    for target in (90, 95):
        rows += [(f"to{target}", f"time to {target}% (mean)", "s", mean_of),
                 (f"to{target}", f"time to {target}% (median)", "s", lambda r, k: (median_of(r, k), "not reached"))]
    for key, label, unit, summary in rows:
        cells, values = [], []
        for name in ("ours", "pytorch"):
            value, missing = summary(results[name], key)
            values.append(value)
            digits = 4 if key == "per_epoch" else 3
            cells.append(missing if value is None else (f"{value:.2f}%" if unit == "%" else f"{value:.{digits}f} s"))
        ratio = f"{values[0] / values[1]:.2f}" if unit == "s" and None not in values and values[1] > 0 else ""
        print(f"| {label} | {cells[0]} | {cells[1]} | {ratio} |")
    if len(results["ours"]) > 1:
        spread = [statistics.stdev(row["best"] for row in results[name]) / len(results[name]) ** 0.5
                  for name in ("ours", "pytorch")]
        print(f"standard error of the mean best accuracy: ours {spread[0]:.2f}, PyTorch {spread[1]:.2f} points")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--arm", choices=["ste", "float"], default="ste")
    parser.add_argument("--hidden", default="128")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--window", choices=["scaled", "fixed"], default="scaled",
                        help="the STE window of the hidden sign (ste arm; see ste_reference.py)")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (ours uses every core)")
    parser.add_argument("--ternevo", default=os.path.join(HERE, "..", ".build", "release", "ternevo"))
    parser.add_argument("--json", help="also write the per-seed figures to this file")
    parser.add_argument("--from-json", help="print the figures of a file written by --json, running nothing")
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        for ours, theirs in zip(saved["results"]["ours"], saved["results"]["pytorch"]):
            print_seed("ours", ours)
            print_seed("pytorch", theirs)
        print_table(saved["results"], saved["arguments"])
        return
    if not os.access(args.ternevo, os.X_OK):
        sys.exit(f"compare_backprop: {args.ternevo} is not an executable; run 'swift build -c release' first")

    common = ["--arm", args.arm, "--hidden", args.hidden, "--lr", str(args.lr), "--batch", str(args.batch)]
    if args.arm == "ste":
        common += ["--window", args.window]
    results = {"ours": [], "pytorch": []}
    import tempfile
    scratch = tempfile.mkdtemp(prefix="compare_backprop-")
    for k, seed in enumerate(int(s) for s in args.seeds.split(",")):
        # Our run writes a run folder; no validation split, so the split equals the reference's.
        folder = os.path.join(scratch, f"seed{seed}")
        ours = [args.ternevo, "train", args.data, *common, "--steps", str(args.epochs), "--seed", str(seed),
                "--validation-fraction", "0", "--scaling", "global", "--eval-every", "1", "--out", folder, "--quiet"]
        torch = [sys.executable, os.path.join(HERE, "ste_reference.py"), args.data, *common, "--epochs", str(args.epochs),
                 "--seed", str(seed), "--threads", str(args.threads)]
        order = [("ours", ours), ("pytorch", torch)] if k % 2 == 0 else [("pytorch", torch), ("ours", ours)]
        for name, command in order:
            figures = run(command, os.path.join(folder, "curves.csv") if name == "ours" else None)
            figures["seed"] = seed
            results[name].append(figures)
            print_seed(name, figures)

    print_table(results, vars(args))
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"arguments": vars(args), "results": results}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
