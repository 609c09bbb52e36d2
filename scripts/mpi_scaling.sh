#!/usr/bin/env bash
# Steps per second of the MNIST-5k local, es and GA arms (experiments/checks/mpi-scaling.json) as one
# process with 1 thread, one with 2 threads and 2 MPI processes with 1 thread each, on this
# machine: rounds alternate, and the median of each is reported with the efficiency (2 x 1 over
# 1 x 2). The 1 x 1 figure is the cluster model's T1 (ScaleOut article).
#
#   scripts/mpi_scaling.sh [ROUNDS] [CONFIG]   (default 3 and experiments/checks/mpi-scaling.json, which
#                                               needs experiments/data/mnist5k; needs Open MPI)
#   experiments/checks/mpi-scaling-text.json: the shipped KJV slice, local and es on batches of 20,000
#   windows (the data-parallel arms); experiments/checks/mpi-scaling-backprop.json (MNIST-5k) and
#   experiments/checks/mpi-scaling-backprop-text.json (the KJV slice): ste and float (steps are
#   epochs). TERNEVO_BINARY=PATH times another MPI build instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
rounds=${1:-3}
config=${2:-experiments/checks/mpi-scaling.json}
binary=${TERNEVO_BINARY:-.build/mpi/release/ternevo}
[ -n "${TERNEVO_BINARY:-}" ] || TERNEVO_MPI=1 swift build -c release --build-path .build/mpi >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)
# Generations per second of each arm of a run folder: steps over training seconds (rank 0's).
rate() { awk -F, 'NR > 1 { printf "%s %.3f\n", $1, $3 / $4 }' "$1/summary.csv"; }
for round in $(seq "$rounds"); do
    "$binary" run "$config" --out "$work/single" --threads 1 --quiet >/dev/null
    rate "$work/single" | sed 's/^/1x1 /' >> "$work/rates"
    "$binary" run "$config" --out "$work/one" --threads 2 --quiet >/dev/null
    rate "$work/one" | sed 's/^/1x2 /' >> "$work/rates"
    "${mpi[@]}" -n 2 "$binary" run "$config" --out "$work/two" --threads 1 --quiet >/dev/null
    rate "$work/two" | sed 's/^/2x1 /' >> "$work/rates"
done
python3 - "$work/rates" <<'PY' 2>/dev/null || cat "$work/rates"
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    layout, arm, value = line.split()
    rates.setdefault((layout, arm), []).append(float(value))
for arm in sorted({a for _, a in rates}):
    single = statistics.median(rates[("1x1", arm)])
    one, two = statistics.median(rates[("1x2", arm)]), statistics.median(rates[("2x1", arm)])
    print(f"{arm}: 1 process x 1 thread {single:.1f} steps/s, 1 process x 2 threads {one:.1f} steps/s, "
          f"2 processes x 1 thread {two:.1f} steps/s, efficiency {100 * two / one:.0f}% "
          f"(medians of {len(rates[('1x2', arm)])} alternating rounds)")
PY
