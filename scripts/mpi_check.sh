#!/usr/bin/env bash
# Builds ternevo with MPI and checks that short experiments give the same files in 1, 2 and 3
# processes (oversubscribed, loopback only) as in one plain process: curves.csv without its
# wall-clock column, summary.csv without wall-clock columns, and every model byte for byte.
# experiments/checks/mpi-check.json (digits: every arm data-parallel; STE and float on minibatches
# of 100, split 2-1-1 blocks of 32 over 3 ranks), experiments/checks/mpi-check-text.json (text:
# local and es on batches that 2 and 3 ranks do not divide, STE and float, points split by
# chunks) and experiments/checks/mpi-check-levels.json (digits with two hidden layers of 4-bit
# activations, every arm).
#
#   scripts/mpi_check.sh            (needs Open MPI: apt-get install openmpi-bin libopenmpi-dev)
#
# Exits 0 when every comparison holds, 1 when one differs, 2 when MPI is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
if ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c 2>/dev/null; then
    echo "mpi_check: Open MPI is not installed (mpirun and pkg-config ompi-c); skipped" >&2
    exit 2
fi
# A separate build folder keeps the default build's cache untouched.
TERNEVO_MPI=1 swift build -c release --build-path .build/mpi >/dev/null
binary=.build/mpi/release/ternevo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=experiments/checks/mpi-check.json

# Open MPI refuses to run as root without these; loopback only, any number of slots.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

status=0
# Drops the columns that hold wall-clock time: curves wall_s (4), summary wall_s and the
# times to 85/90/95% (4, 11, 12, 13).
strip() { awk -F, -v OFS=, -v cols="$2" 'BEGIN { n = split(cols, c, " ") } { for (i = 1; i <= n; i++) $c[i] = ""; print }' "$1"; }

# check CONFIG NAME: the config alone and in 1, 2 and 3 processes, compared.
check() {
    local config=$1 name=$2
    "$binary" run "$config" --out "$work/$name-alone" --quiet --threads 2 >/dev/null
    for n in 1 2 3; do
        "${mpi[@]}" -n "$n" "$binary" run "$config" --out "$work/$name-np$n" --threads 1 >/dev/null 2>"$work/$name-np$n.log"
        local same=yes
        # The processes formed one run (a build without MPI refuses to start under mpirun).
        [ "$n" = 1 ] || grep -q "^$n processes; rank 0 writes" "$work/$name-np$n.log" || same="no (the $n processes did not form one run)"
        cmp -s <(strip "$work/$name-alone/curves.csv" "4") <(strip "$work/$name-np$n/curves.csv" "4") || same="no (curves.csv)"
        cmp -s <(strip "$work/$name-alone/summary.csv" "4 11 12 13") <(strip "$work/$name-np$n/summary.csv" "4 11 12 13") || same="no (summary.csv)"
        for model in "$work/$name-alone"/*.tern; do
            cmp -s "$model" "$work/$name-np$n/$(basename "$model")" || same="no ($(basename "$model"))"
        done
        echo "mpi_check: $name, $n process(es) vs one plain process: identical: $same"
        [ "$same" = yes ] || status=1
    done
}
check "$config" digits
check experiments/checks/mpi-check-text.json text
check experiments/checks/mpi-check-levels.json levels
# Resume on another number of processes: cut the 3-process run's last arm and finish it with 2.
rm -f "$work"/digits-np3/*-seed2.ckpt
"${mpi[@]}" -n 2 "$binary" resume "$work/digits-np3" --quiet --threads 1 >/dev/null
if cmp -s <(strip "$work/digits-alone/curves.csv" "4") <(strip "$work/digits-np3/curves.csv" "4"); then
    echo "mpi_check: a 3-process run resumed by 2 processes: identical: yes"
else
    echo "mpi_check: a 3-process run resumed by 2 processes: identical: no"; status=1
fi
exit $status
