#!/usr/bin/env bash
# Interleaved HTTP A/B of two bench-server binaries (two commits), one variant:
# server CPU µs per request from /proc, server on CPU 0 and wrk on CPU 1, the
# two binaries alternating round by round (the first one first in odd rounds).
#
#   bench/tools/ab-http.sh BIN_A BIN_B VARIANT ROUNDS [SIZE] [N]
#   bench/tools/ab-http.sh /tmp/bench-server.old /tmp/bench-server.new axum-hookwise 8 1048576 8
#
# SIZE (default 1024) and N (default 1000) are the deliveries' size and count;
# DURATION (2s), WARMUP (1s), CONNS (16) and PORT (18092) from the environment.
# Prints each round, then B − A: mean ± 95 % CI (t, n − 1 degrees of freedom).
set -euo pipefail
A=$1 B=$2 V=$3 R=$4 SIZE=${5:-1024} N=${6:-1000}
DURATION=${DURATION:-2s} WARMUP=${WARMUP:-1s} CONNS=${CONNS:-16} PORT=${PORT:-18092}
ADDR=127.0.0.1:$PORT TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
P=
trap '[[ -n $P ]] && kill "$P" 2>/dev/null; rm -rf "$WORK"' EXIT
"$B" emit-lua "$N" "$SIZE" >"$WORK/load.lua"
one() { # binary -> µs/request
    taskset -c 0 "$1" "$V" "$ADDR" 2>"$WORK/server.log" &
    P=$!
    for _ in $(seq 100); do curl -sf "http://$ADDR/count" >/dev/null 2>&1 && break; sleep 0.1; done
    taskset -c 1 wrk -t1 -c"$CONNS" -d"$WARMUP" -s "$WORK/load.lua" "http://$ADDR/hook" >/dev/null
    local c0 c1 n
    c0=$(awk '{print $14 + $15}' "/proc/$P/stat")
    taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" -s "$WORK/load.lua" "http://$ADDR/hook" >"$WORK/wrk"
    c1=$(awk '{print $14 + $15}' "/proc/$P/stat")
    kill "$P"; wait "$P" 2>/dev/null || true; P=
    if grep -q Non-2xx "$WORK/wrk"; then echo "non-2xx answers from $1" >&2; exit 1; fi
    n=$(awk '/requests in/ {print $1}' "$WORK/wrk")
    awk -v d=$((c1 - c0)) -v t="$TCK" -v n="$n" 'BEGIN { printf "%.2f", d / t * 1e6 / n }'
}
for r in $(seq "$R"); do
    if (( r % 2 )); then a=$(one "$A"); b=$(one "$B"); else b=$(one "$B"); a=$(one "$A"); fi
    echo "round $r  A $a  B $b" | tee -a "$WORK/rounds"
done
awk '{ d[NR] = $6 - $4; s += d[NR] } END {
    n = NR; m = s / n; for (i = 1; i <= n; i++) v += (d[i] - m) ^ 2; se = sqrt(v / (n - 1) / n)
    split("12.71 4.30 3.18 2.78 2.57 2.45 2.36 2.31 2.26 2.23 2.20 2.18 2.16 2.14 2.13 2.12 2.11 2.10 2.09 2.09", t, " ")
    tq = (n - 1 <= 20) ? t[n - 1] : 2.0
    printf "B - A: %+.2f ± %.2f µs/request (95 %% CI, %d rounds)\n", m, tq * se, n
}' "$WORK/rounds"
