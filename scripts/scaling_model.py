#!/usr/bin/env python3
"""The cluster model of the ScaleOut article, from steps per second measured by
scripts/mpi_scaling.sh (1 process x 1 thread and 2 processes x 1 thread).

    python3 scripts/scaling_model.py ARM=R11,R21,K [ARM=...] [--l2 3e-6] [--a 21e-6,2e-6] [--grow F]

R11 and R21 are the steps per second of the arm as 1 x 1 and 2 x 1; K the collectives per
step. Per step T(P) = S + C/P + K a log2(P): T(1) = S + C and T(2) = S + C/2 + L2 give C and S.
Prints S, C, the share of S in a one-process step, the predicted speed-up over 1 x 1 at 8, 64
and 512 processes with a fixed batch (strong scaling), the efficiency with a batch that grows
with P (weak scaling), and where communication starts to dominate (C/P < K a log2 P).
With --grow F, the same for a batch F times larger: C grows F-fold, S does not (the split part
is linear in the batch's examples: check it with two measured batch sizes).

    python3 scripts/scaling_model.py --backprop ARM=S,C,BYTES [ARM=...] [--bandwidth 1.25e9,12.5e9]

The backprop arms (ste, float): S and C in microseconds per minibatch step (the repeated part,
Adam and the per-weight work, and the split part, the examples' forward and backward), BYTES
the gradient all-reduced each step (8 per weight and bias). The all-reduce costs
L(P) = 2 (P - 1) / P BYTES / bandwidth + 2 a log2(P) (a reduce-scatter and an all-gather), so
it grows with the weights, not the examples. Prints the weak-scaling efficiency (each rank
keeps its examples per step) at 8, 64 and 512 processes for each bandwidth and latency.
"""
import math
import sys


def main(argv):
    l2, latencies, arms, grow = 3e-6, [21e-6, 2e-6], [], None
    if argv and argv[0] == "--backprop":
        return backprop(argv[1:], latencies)
    i = 0
    while i < len(argv):
        if argv[i] == "--l2":
            l2 = float(argv[i + 1]); i += 2
        elif argv[i] == "--grow":
            grow = float(argv[i + 1]); i += 2
        elif argv[i] == "--a":
            latencies = [float(x) for x in argv[i + 1].split(",")]; i += 2
        else:
            name, values = argv[i].split("=")
            r11, r21, k = values.split(",")
            arms.append((name, float(r11), float(r21), int(k))); i += 1
    if not arms:
        print(__doc__.strip())
        return 64
    for name, r11, r21, k in arms:
        t1, t2 = 1 / r11, 1 / r21
        c = 2 * (t1 - (t2 - l2))
        s = t1 - c
        print(f"{name}: T(1) {t1 * 1e6:.0f} us, T(2) {t2 * 1e6:.0f} us, C {c * 1e6:.0f} us, S {s * 1e6:.0f} us ({s / t1:.0%} of T(1))")
        report(s, c, k, latencies)
        if grow:
            c *= grow
            t1 = s + c
            print(f"{name}, batch x {grow:g}: T(1) {t1 * 1e3:.1f} ms, C {c * 1e3:.1f} ms, S {s * 1e6:.0f} us ({s / t1:.2%} of T(1))")
            report(s, c, k, latencies)
    return 0


def report(s, c, k, latencies):
    """Strong and weak scaling at 8, 64 and 512 processes for each latency per doubling."""
    t1 = s + c
    for a in latencies:
        strong = [t1 / (s + c / p + k * a * math.log2(p)) for p in (8, 64, 512)]
        weak = [t1 / (t1 + k * a * math.log2(p)) for p in (8, 64, 512)]
        dominates = next((p for p in (2 ** j for j in range(1, 16)) if c / p < k * a * math.log2(p)), None)
        print(f"  a = {a * 1e6:g} us: strong " + ", ".join(f"{x:.2f}x" for x in strong)
              + "; weak " + ", ".join(f"{x:.0%}" for x in weak) + f"; communication dominates from P = {dominates}")


def backprop(argv, latencies):
    """Weak scaling of data-parallel backprop: per step S + C + L(P) against S + C."""
    bandwidths, arms, i = [1.25e9, 12.5e9], [], 0
    while i < len(argv):
        if argv[i] == "--bandwidth":
            bandwidths = [float(x) for x in argv[i + 1].split(",")]; i += 2
        elif argv[i] == "--a":
            latencies = [float(x) for x in argv[i + 1].split(",")]; i += 2
        else:
            name, values = argv[i].split("=")
            s, c, size = values.split(",")
            arms.append((name, float(s) * 1e-6, float(c) * 1e-6, float(size))); i += 1
    if not arms:
        print(__doc__.strip())
        return 64
    for name, s, c, size in arms:
        print(f"{name}: S {s * 1e6:.0f} us, C {c * 1e6:.0f} us, gradient {size / 1e6:.2f} MB per step")
        for bandwidth, a in zip(bandwidths, latencies):
            cost = [2 * (p - 1) / p * size / bandwidth + 2 * a * math.log2(p) for p in (8, 64, 512)]
            weak = [(s + c) / (s + c + x) for x in cost]
            print(f"  {bandwidth * 8 / 1e9:g} Gb/s, a = {a * 1e6:g} us: all-reduce "
                  + ", ".join(f"{x * 1e3:.2f} ms" for x in cost) + "; weak " + ", ".join(f"{x:.0%}" for x in weak))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
