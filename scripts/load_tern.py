#!/usr/bin/env python3
"""Load a TernEvo model exported with `ternevo export MODEL --out FILE.safetensors`, run its
integer forward pass with numpy, and check the predictions against `ternevo eval`.

    ternevo export results/digits/local-seed1.tern --out /tmp/model.safetensors
    ternevo eval results/digits/local-seed1.tern --data experiments/data/digits.csv --predictions /tmp/ours.csv
    python3 scripts/load_tern.py /tmp/model.safetensors experiments/data/digits.csv --check /tmp/ours.csv

It reads the safetensors file itself (8-byte header length, JSON header, raw tensors), so it
needs numpy only. The data is a CSV file (header, 'label' column) or a folder holding an IDX
pair. Exits 1 if any prediction differs.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = raw[8 + length:]
    dtypes = {"I8": np.int8, "I32": np.int32, "F32": np.float32}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=np.dtype(dtypes[entry["dtype"]]).newbyteorder("<")).reshape(entry["shape"])
    return tensors, metadata


def load_data(path):
    """Features (float32, as ternevo parses them) and labels."""
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        images = next(n for n in names if "images" in n and "idx3" in n)
        labels = next(n for n in names if "labels" in n and "idx1" in n)
        with open(os.path.join(path, images), "rb") as handle:
            _, count, rows, columns = struct.unpack(">IIII", handle.read(16))
            x = np.frombuffer(handle.read(), dtype=np.uint8).reshape(count, rows * columns).astype(np.float32)
        with open(os.path.join(path, labels), "rb") as handle:
            handle.read(8)
            y = np.frombuffer(handle.read(), dtype=np.uint8).astype(np.int64)
        return x, y
    with open(path) as handle:
        header = handle.readline().strip().split(",")
        label = header.index("label")
        rows = [line.strip().split(",") for line in handle if line.strip()]
    x = np.array([[np.float32(v) for k, v in enumerate(row) if k != label] for row in rows], dtype=np.float32)
    y = np.array([int(row[label]) for row in rows], dtype=np.int64)
    return x, y


def quantize(x, low, high, bits):
    """q = round_half_away((v - lo) / (hi - lo) * Q) clamped to 0 ... Q, in float64, as ternevo."""
    levels = (1 << bits) - 1
    if not high > low:
        return np.zeros(x.shape, dtype=np.int64)
    scaled = (x.astype(np.float64) - np.float64(low)) / (np.float64(high) - np.float64(low)) * levels
    whole = np.trunc(scaled)
    rounded = whole + np.sign(scaled) * (np.abs(scaled - whole) >= 0.5)
    return np.clip(rounded, 0, levels).astype(np.int64)


def predict(tensors, metadata, x):
    sizes = [int(v) for v in metadata["layer_sizes"].split(",")]
    if metadata.get("input_scaling") == "per_feature":
        # One range per feature; a constant feature (lo == hi) maps to 0.
        low, high = tensors["input.low"].astype(np.float64), tensors["input.high"].astype(np.float64)
        levels = (1 << int(metadata["input_bits"])) - 1
        span = np.where(high > low, high - low, 1.0)
        scaled = (x.astype(np.float64) - low) / span * levels
        whole = np.trunc(scaled)
        rounded = whole + np.sign(scaled) * (np.abs(scaled - whole) >= 0.5)
        a = np.where(high > low, np.clip(rounded, 0, levels), 0).astype(np.int64)
    else:
        a = quantize(x, np.float32(metadata["input_low"]), np.float32(metadata["input_high"]), int(metadata["input_bits"]))
    layers = len(sizes) - 1
    for l in range(layers):
        s = a @ tensors[f"layers.{l}.weight"].astype(np.int64).T
        if l == layers - 1:
            return np.argmax(s, axis=1)  # the first maximum: ties to the lowest class
        a = activation(s, tensors, metadata, l)


def activation(s, tensors, metadata, l):
    """Hidden layer l: sign (+1 / -1), or K-bit levels clamp(floor((s - theta) / step), 0, 2^K - 1)."""
    theta = tensors[f"layers.{l}.threshold"].astype(np.int64)
    kind = metadata.get("activation", "sign")
    if kind == "sign":
        return np.where(s >= theta, 1, -1)
    top = (1 << int(kind.removeprefix("relu"))) - 1
    step = int(tensors[f"layers.{l}.step"][0])
    return np.clip(np.floor_divide(s - theta, step), 0, top)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a .safetensors file written by 'ternevo export'")
    parser.add_argument("data", help="a CSV file or a folder with an IDX pair")
    parser.add_argument("--check", help="predictions written by 'ternevo eval --predictions'")
    args = parser.parse_args()
    tensors, metadata = load_safetensors(args.model)
    if metadata.get("format") != "ternevo":
        sys.exit(f"load_tern: {args.model} was not written by ternevo export")
    x, y = load_data(args.data)
    predicted = predict(tensors, metadata, x)
    print(f"accuracy {100 * np.mean(predicted == y):.2f}% ({int(np.sum(predicted == y))} of {len(y)}) of {args.model} on {args.data}")
    if args.check:
        theirs = np.loadtxt(args.check, delimiter=",", skiprows=1, dtype=np.int64).reshape(-1, 3)[:, 2]
        differ = int(np.sum(theirs != predicted))
        print(f"{'agrees' if differ == 0 else 'DIFFERS'} with {args.check}: {differ} of {len(theirs)} predictions differ")
        if differ:
            sys.exit(1)


if __name__ == "__main__":
    main()
