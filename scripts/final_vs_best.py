#!/usr/bin/env python3
"""Final against best validation accuracy of every arm and seed of run folders.

    python3 scripts/final_vs_best.py RUN_DIR... [--below 0.9]

For each (run, arm, seed) of each folder's curves.csv: the best and the last logged validation
accuracy and their ratio; lines whose ratio is below --below are marked. Then, per arm, the
lowest ratio over seeds. The issue's criterion: no gradient-free arm ends below 90% of its best.
"""
import csv
import os
import sys


def main(argv):
    below = 0.9
    if "--below" in argv:
        i = argv.index("--below")
        below = float(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    if not argv:
        print(__doc__.strip())
        return 64
    worst = {}
    for folder in argv:
        path = os.path.join(folder, "curves.csv")
        rows = {}
        with open(path) as handle:
            for row in csv.DictReader(handle):
                if row.get("val_acc") in (None, ""):
                    continue
                rows.setdefault((row["method"], row["seed"]), []).append(float(row["val_acc"]))
        run = os.path.basename(os.path.normpath(folder))
        for (method, seed), values in sorted(rows.items()):
            best, final = max(values), values[-1]
            ratio = final / best if best > 0 else 1.0
            mark = "  <-- below" if ratio < below else ""
            print(f"{run:24s} {method:22s} seed {seed}: best {best:.3f} final {final:.3f} ratio {ratio:.3f}{mark}")
            key = (run, method)
            worst[key] = min(worst.get(key, 1.0), ratio)
    print()
    for (run, method), ratio in sorted(worst.items()):
        print(f"{run:24s} {method:22s} lowest final/best over seeds: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
