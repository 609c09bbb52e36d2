#!/usr/bin/env python3
"""Draws a curves CSV of `ternevo run` with matplotlib (PNG or PDF), like `ternevo plot`.

One colour per method: the mean over seeds as a line and the min-max band, each seed read as a
step function (a value holds until the next point), from the first point of any seed to the
last point of the longest seed.

    pip install -r scripts/requirements.txt
    python3 scripts/plot_curves.py results/quickstart/curves.csv --out curves.png [--x wall_s] [--y test_acc]
"""
import argparse
import csv
import sys
from collections import OrderedDict


def load(path, x, y):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no rows")
    for column in ("method", "seed", x, y):
        if column not in rows[0]:
            sys.exit(f"{path}: line 1: no column '{column}' (columns: {', '.join(rows[0].keys())})")
    series = OrderedDict()
    for line, row in enumerate(rows, start=2):
        if not row[x] or not row[y]:
            continue
        try:
            point = (float(row[x]), float(row[y]))
        except ValueError:
            sys.exit(f"{path}: line {line}: '{row[x]}' or '{row[y]}' is not a number")
        series.setdefault(row["method"], OrderedDict()).setdefault(row["seed"], []).append(point)
    return series


def envelope(seeds, grid):
    curves = [sorted(points) for points in seeds.values() if points]
    end = max(c[-1][0] for c in curves)
    out = []
    for gx in grid:
        if gx > end:
            break
        values = [max((p for p in c if p[0] <= gx), default=None) for c in curves]
        values = [v[1] for v in values if v is not None]
        if values:
            out.append((gx, sum(values) / len(values), min(values), max(values)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves")
    parser.add_argument("--x", default="wall_s")
    parser.add_argument("--y", default="test_acc")
    parser.add_argument("--out", help="PNG or PDF (default: the CSV's name with .png)")
    args = parser.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = load(args.curves, args.x, args.y)
    xs = [p[0] for seeds in series.values() for points in seeds.values() for p in points]
    low, high = min(xs), max(xs)
    grid = [low + (high - low) * k / 400 for k in range(401)]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for method, seeds in series.items():
        env = envelope(seeds, grid)
        if not env:
            continue
        gx = [e[0] for e in env]
        line, = ax.plot(gx, [e[1] for e in env], label=f"{method} ({len(seeds)} seed{'s' if len(seeds) != 1 else ''})")
        ax.fill_between(gx, [e[2] for e in env], [e[3] for e in env], color=line.get_color(), alpha=0.18, linewidth=0)
    ax.set_xlabel(args.x)
    ax.set_ylabel(args.y)
    ax.set_title(f"{args.y} against {args.x}")
    ax.grid(alpha=0.3)
    ax.legend(title="line: mean, band: min-max", fontsize=9, title_fontsize=8)
    out = args.out or args.curves.rsplit(".", 1)[0] + ".png"
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
