#!/usr/bin/env bash
# HTTP load benchmark: plain handler vs hand-written checks vs hookwise, for axum
# and actix-web, on loopback, server pinned to one core and wrk to the other.
#
#   scripts/bench-http.sh                 # all variants, 3 rounds, then the peak-RSS run
#   VARIANTS="axum-plain axum-hookwise" ROUNDS=1 DURATION=5s scripts/bench-http.sh
#
# Environment (defaults): DURATION=10s CONNS=16 N=1000 SIZE=1024 ROUNDS=3
# WARMUP=2s RSS=1 RSS_CONNS=32 RSS_SIZE=8388608 RSS_DURATION=5s RSS_HOLD=1 HEAP=1 PORT=18080
# RSS_VARIANTS (plain, hand-written and hookwise of both frameworks)
# SERVER_CPU=0 CLIENT_CPU=1 CARGO_TARGET_DIR (default: target).
#
# Per request, the server's CPU time is read from /proc/<pid>/stat (utime +
# stime, all threads) before and after the measured wrk run; requests/s and
# p50/p99 come from `wrk --latency`. Every variant must answer 200 and run its
# handler for every request: the handler count (GET /count) is checked against
# wrk's request count. Each round runs every variant once (interleaved, so that
# a noisy neighbour hits all of them alike; every other round in reverse
# order); the tables show the median and the best round, and the paired
# section the per-round differences with a 95 % confidence interval.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
N=${N:-1000}
SIZE=${SIZE:-1024}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2s}
RSS=${RSS:-1}
RSS_CONNS=${RSS_CONNS:-32}
RSS_SIZE=${RSS_SIZE:-8388608}
RSS_DURATION=${RSS_DURATION:-5s}
RSS_HOLD=${RSS_HOLD:-1}
HEAP=${HEAP:-1}
# The hand-written variants hash the body too: a body is held while it is hashed.
RSS_VARIANTS=${RSS_VARIANTS:-"axum-plain axum-hand-handler axum-hookwise actix-plain actix-hand actix-hookwise"}
PORT=${PORT:-18080}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
VARIANTS=${VARIANTS:-"axum-plain axum-hand-handler axum-hand-middleware axum-hookwise axum-hookwise-replay actix-plain actix-hand actix-hand-middleware actix-hookwise actix-hookwise-replay"}
ADDR=127.0.0.1:$PORT

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl missing: apt-get install -y curl" >&2; exit 1; }

cargo build --release -q -p hookwise-bench-http
BIN=${CARGO_TARGET_DIR:-target}/release/bench-server
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" emit-lua "$N" "$SIZE" >"$WORK/load.lua"
TCK=$(getconf CLK_TCK)

start_server() { # variant [binary]
    taskset -c "$SERVER_CPU" "${2:-$BIN}" "$1" "$ADDR" 2>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -sf "http://$ADDR/count" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server $1 did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
handled() { curl -sf "http://$ADDR/count"; }
# wrk latency "123.45us" / "1.20ms" / "1.00s" -> microseconds
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1e6; else print n }'; }

run_variant() { # variant round
    local v=$1 r=$2 out=$WORK/$1.$2.wrk
    start_server "$v"
    timeout 60 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$WARMUP" -s "$WORK/load.lua" "http://$ADDR/hook" >/dev/null
    local h0 c0 h1 c1
    h0=$(handled); c0=$(cpu_ticks)
    timeout 120 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$WORK/load.lua" "http://$ADDR/hook" >"$out"
    c1=$(cpu_ticks); h1=$(handled)
    stop_server
    local reqs rps p50 p99 non2xx secs
    reqs=$(awk '/requests in/ {print $1}' "$out")
    secs=$(awk '/requests in/ {gsub(/s,?/, "", $4); print $4}' "$out")
    rps=$(awk '/Requests\/sec/ {print $2}' "$out")
    p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$out")")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$out"); non2xx=${non2xx:-0}
    local cpu_us util
    cpu_us=$(awk -v d=$((c1 - c0)) -v t="$TCK" -v n="$reqs" 'BEGIN { printf "%.2f", d / t * 1e6 / n }')
    util=$(awk -v d=$((c1 - c0)) -v t="$TCK" -v s="$secs" 'BEGIN { printf "%.0f", d / t / s * 100 }')
    if [[ $non2xx != 0 ]] || (( h1 - h0 < reqs - CONNS )); then
        echo "!! $v: $non2xx non-2xx answers, handler ran $((h1 - h0)) times for $reqs requests" >&2
        exit 1
    fi
    echo "$v $r $rps $p50 $p99 $cpu_us $util $reqs $((h1 - h0))" >>"$WORK/results"
    printf '  round %s %-22s %9.0f req/s  p50 %7.1f us  p99 %7.1f us  %6.2f us CPU/req (server at %s%% of a core)\n' \
        "$r" "$v" "$rps" "$p50" "$p99" "$cpu_us" "$util"
}

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), sha_ni: $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $N distinct signed GitHub deliveries of $SIZE B; wrk -t1 -c$CONNS -d$DURATION (warm-up $WARMUP); server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU; $ROUNDS round(s)"
# ROUNDS=0: the peak-RSS run alone (no CPU rounds, no HTTP tables).
if (( ROUNDS > 0 )); then
# Every other round runs the variants in reverse order, so that a drift within
# a round (the machine warming up, a neighbour arriving) does not always favour
# the same ones: a variant's position is counterbalanced over the rounds.
REVERSED=$(printf '%s\n' $VARIANTS | tac | tr '\n' ' ')
for r in $(seq "$ROUNDS"); do
    order=$VARIANTS
    (( r % 2 == 0 )) && order=$REVERSED
    for v in $order; do run_variant "$v" "$r"; done
done

echo
echo "## HTTP, $SIZE B bodies (median round by server CPU per request)"
echo
echo "| variant | req/s | p50 µs | p99 µs | server CPU µs/req | vs plain | Δ µs/req |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for v in $VARIANTS; do
    # median round by CPU µs/request
    row=$(awk -v v="$v" '$1 == v' "$WORK/results" | sort -k6,6g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
    fw=${v%%-*}
    base=$(awk -v v="$fw-plain" '$1 == v' "$WORK/results" | sort -k6,6g | awk '{ a[NR] = $6 } END { print a[int((NR + 1) / 2)] }')
    echo "$row" | awk -v base="$base" '{
        if (base != "") { ratio = sprintf("%.2f×", $6 / base); delta = sprintf("%+.2f", $6 - base) } else { ratio = "-"; delta = "-" }
        printf "| %s | %.0f | %.1f | %.1f | %.2f | %s | %s |\n", $1, $3, $4, $5, $6, ratio, delta
    }'
done

echo
echo "## HTTP, $SIZE B bodies (best round by server CPU per request)"
echo
echo "Interference on a shared machine only ever adds CPU time, so the lowest of the"
echo "rounds is the closest reading of a variant's own cost; both tables are printed."
echo
echo "| variant | best server CPU µs/req | vs plain (best) | Δ µs/req | all rounds |"
echo "|---|---:|---:|---:|---|"
for v in $VARIANTS; do
    fw=${v%%-*}
    base=$(awk -v v="$fw-plain" '$1 == v { print $6 }' "$WORK/results" | sort -g | head -1)
    all=$(awk -v v="$v" '$1 == v { printf "%s%.2f", sep, $6; sep = " " }' "$WORK/results")
    awk -v v="$v" '$1 == v { print $6 }' "$WORK/results" | sort -g | head -1 | awk -v v="$v" -v base="$base" -v all="$all" '{
        if (base != "") { ratio = sprintf("%.2f×", $1 / base); delta = sprintf("%+.2f", $1 - base) } else { ratio = "-"; delta = "-" }
        printf "| %s | %.2f | %s | %s | %s |\n", v, $1, ratio, delta, all
    }'
done

# Paired rounds: each round runs every variant once, back to back, so the
# difference between two variants within a round cancels what the machine did
# to both. Mean difference over the rounds with a 95 % confidence interval
# (Student's t): "ahead" or "behind" only when the interval excludes zero.
if (( ROUNDS >= 2 )); then
    echo
    echo "## Paired rounds (server CPU µs/req, per-round difference, mean ± 95 % CI over $ROUNDS rounds)"
    echo
    echo "| framework | hookwise variant | compared with | mean Δ µs | 95 % CI | hookwise lower in | verdict |"
    echo "|---|---|---|---:|---:|---:|---|"
    for fw in axum actix; do
        for h in $VARIANTS; do
            [[ $h == "$fw"-hookwise* ]] || continue
            for x in $VARIANTS; do
                [[ $x == "$fw"-* && $x != "$fw"-hookwise* ]] || continue
                # With the replay store against plain only (its ≤ 3 µs target):
                # the hand-written variants keep no replay state.
                [[ $h == *-replay && $x != *-plain ]] && continue
                awk -v h="$h" -v x="$x" -v fw="$fw" '
                    $1 == h { a[$2] = $6 } $1 == x { b[$2] = $6 }
                    END {
                        n = 0; s = 0; lower = 0
                        for (r in a) if (r in b) { d[++n] = a[r] - b[r]; s += d[n]; if (d[n] < 0) lower++ }
                        if (n < 2) exit
                        m = s / n; v = 0
                        for (i = 1; i <= n; i++) v += (d[i] - m) ^ 2
                        sd = sqrt(v / (n - 1))
                        split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", t, " ")
                        q = (n - 1 <= 30) ? t[n - 1] : 1.96
                        hw = q * sd / sqrt(n)
                        if (x ~ /-plain$/) verdict = sprintf("adds %.2f to %.2f", m - hw, m + hw)
                        else if (m + hw < 0) verdict = "hookwise ahead"
                        else if (m - hw > 0) verdict = "hookwise behind"
                        else verdict = "level (CI spans 0)"
                        printf "| %s | %s | %s | %+.2f | ±%.2f | %d of %d | %s |\n", fw, h, x, m, hw, lower, n, verdict
                    }' "$WORK/results"
            done
        done
    done
fi

fi # ROUNDS > 0

if [[ $RSS == 1 ]]; then
    "$BIN" emit-lua 1 "$RSS_SIZE" >"$WORK/big.lua"
    echo
    echo "## Peak RSS, $RSS_CONNS concurrent deliveries of $RSS_SIZE B (wrk -c$RSS_CONNS -d$RSS_DURATION)"
    echo
    # Every handler holds its body until all $RSS_CONNS connections' bodies are
    # held (BENCH_HOLD, a barrier in the bench server; RSS_HOLD=0 turns it off),
    # so that each variant's peak is taken with the same $RSS_CONNS bodies
    # resident and the ratio to plain measures bytes per delivery, not how many
    # deliveries a variant's speed happened to leave in flight. Bodies at peak:
    # (VmHWM - idle RSS) / body size; copies per body: that over $RSS_CONNS
    # (1.0 = one buffered copy each; a second copy would show as 2).
    if [[ $RSS_HOLD == 1 ]]; then export BENCH_HOLD=$RSS_CONNS; held="$RSS_CONNS held at once"; else held="of $RSS_CONNS in flight"; fi
    echo "| variant | RSS idle MiB | VmHWM MiB | requests | vs plain | bodies at peak ($held) | copies per body |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for v in $RSS_VARIANTS; do
        start_server "$v"
        idle=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
        timeout 120 taskset -c "$CLIENT_CPU" wrk -t1 -c"$RSS_CONNS" -d"$RSS_DURATION" --timeout 30s -s "$WORK/big.lua" "http://$ADDR/hook" >"$WORK/rss.wrk"
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
        stop_server
        reqs=$(awk '/requests in/ {print $1}' "$WORK/rss.wrk")
        non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/rss.wrk")
        [[ -z $non2xx ]] || { echo "!! $v: $non2xx non-2xx answers in the RSS run" >&2; exit 1; }
        fw=${v%%-*}
        [[ $v == *-plain ]] && eval "base_$fw=$hwm"
        eval "b=\$base_$fw"
        awk -v v="$v" -v i="$idle" -v h="$hwm" -v n="$reqs" -v b="$b" -v sz="$RSS_SIZE" -v c="$RSS_CONNS" 'BEGIN { printf "| %s | %.1f | %.1f | %s | %.2f× | %.1f | %.2f |\n", v, i / 1024, h / 1024, n, h / b, (h - i) * 1024 / sz, (h - i) * 1024 / sz / c }'
    done
    if [[ $HEAP == 1 && $RSS_HOLD == 1 ]]; then
        # The same run with the `heap-stats` build (dhat as the allocator):
        # live heap bytes at their peak, from GET /heap, less those live
        # before the run. Unlike VmHWM it leaves out what glibc keeps mapped
        # after a free, so it counts the copies each variant holds.
        cargo build --release -q -p hookwise-bench-http --features heap-stats
        cp "$BIN" "$WORK/bench-server-heap"
        cargo build --release -q -p hookwise-bench-http # the plain build back
        echo
        echo "### Live heap at its peak, $RSS_CONNS deliveries of $RSS_SIZE B held at once (dhat, \`--features heap-stats\`)"
        echo
        echo "| variant | heap peak MiB | vs plain | copies per body |"
        echo "|---|---:|---:|---:|"
        for v in $RSS_VARIANTS; do
            start_server "$v" "$WORK/bench-server-heap"
            live0=$(curl -sf "http://$ADDR/heap" | awk '{print $2}')
            timeout 120 taskset -c "$CLIENT_CPU" wrk -t1 -c"$RSS_CONNS" -d"$RSS_DURATION" --timeout 30s -s "$WORK/big.lua" "http://$ADDR/hook" >"$WORK/heap.wrk"
            peak=$(curl -sf "http://$ADDR/heap" | awk '{print $1}')
            stop_server
            non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/heap.wrk")
            [[ -z $non2xx ]] || { echo "!! $v: $non2xx non-2xx answers in the heap run" >&2; exit 1; }
            fw=${v%%-*}
            [[ $v == *-plain ]] && eval "hbase_$fw=$peak"
            eval "b=\$hbase_$fw"
            awk -v v="$v" -v p="$peak" -v l="$live0" -v b="$b" -v sz="$RSS_SIZE" -v c="$RSS_CONNS" 'BEGIN { printf "| %s | %.1f | %.2f× | %.2f |\n", v, p / 1048576, p / b, (p - l) / sz / c }'
        done
    fi
    unset BENCH_HOLD
fi
