#!/usr/bin/env bash
# `make bench`: the gateway against nginx on loopback, with the `zero` emulator as upstream.
#   1. throughput at saturation (wrk, closed loop) for: emulator direct, via mecrouter, via nginx;
#   2. p50/p99 latency at fixed request rates (h2load --rps, open loop, requests evenly spaced and
#      in synchronized bursts; per-request log);
#   3. CPU instructions per request of the gateway (valgrind --tool=callgrind, a repeatable count);
#   4. the Google Benchmark micro-benchmarks (bench/*_bench.cc).
# Usage: bench/run.sh BUILD_DIR   (a Release build; `make bench` passes build/release)
set -euo pipefail
# 10,000 idle connections below need as many open files in the gateway and the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
BUILD=${1:-build/release}
BIN=$BUILD/mecrouter
OUT=${BENCH_OUT:-bench/out}
DURATION=${BENCH_DURATION:-8}
THREADS=${BENCH_THREADS:-1}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for f in "$TMP/nginx.pid" "$TMP/n2/nginx.pid"; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.1; done; echo "port $1 did not come up" >&2; return 1; }

EMU=$(free_port); GW=$(free_port); NGX=$(free_port)
"$BIN" emulate --profile zero --listen 127.0.0.1:$EMU --threads 1 > "$TMP/emu.log" 2>&1 & PIDS+=($!)
cat > "$TMP/gw.yaml" <<YAML
server: {listen: 127.0.0.1:$GW, threads: $THREADS}
routing: {auto_order: [edge]}
backends:
  - {name: zero, tier: edge, url: http://127.0.0.1:$EMU/v1, models: [zero], max_concurrency: 100000}
YAML
"$BIN" serve --config "$TMP/gw.yaml" > "$TMP/gw.log" 2>&1 & PIDS+=($!)
mkdir -p "$TMP/body" "$TMP/proxy"
sed -e "s#@PREFIX@#$TMP#g" -e "s#@NGINX_PORT@#$NGX#g" -e "s#@UPSTREAM_PORT@#$EMU#g" -e "s#@WORKERS@#$THREADS#g" bench/nginx.conf > "$TMP/nginx.conf"
nginx -c "$TMP/nginx.conf" -p "$TMP" -e "$TMP/error.log"
wait_port $EMU; wait_port $GW
for _ in $(seq 50); do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data @bench/request.json "http://127.0.0.1:$NGX/v1/chat/completions" && break; sleep 0.1; done

declare -A URL=([direct]="http://127.0.0.1:$EMU" [mecrouter]="http://127.0.0.1:$GW" [nginx]="http://127.0.0.1:$NGX")
ORDER=(direct mecrouter nginx)
echo "== throughput at saturation: wrk -t1 -c64, 4 rounds of ${DURATION}/4 s each, pooled, POST /v1/chat/completions (zero profile, 16 tokens), gateway/nginx threads=$THREADS"
# The CPU time (user, system; clock ticks) of the processes that serve a run: the emulator for
# `direct`, the gateway, nginx's workers. Per request it says where a ratio comes from: the proxy
# whose core is saturated is the one that sets its throughput.
declare -A SERVER_PIDS=([direct]="${PIDS[0]}" [mecrouter]="${PIDS[1]}" [nginx]="$(pgrep -P "$(cat "$TMP/nginx.pid")" | tr '\n' ' ')")
cpu_ticks() { for p in $1; do awk '{print $14, $15}' "/proc/$p/stat"; done | awk '{u+=$1; s+=$2} END{print u+0, s+0}'; }
TICK=$(getconf CLK_TCK)
declare -A RPS CPU_US OTHERS_US USER_US
# wrk_cpu OUT CMD...: runs CMD (wrk) with its output to OUT and prints its own CPU time, "USER
# SYSTEM" in seconds: the children's line of `times` in a subshell that ran only it.
wrk_cpu() {
  local out=$1; shift
  ( "$@" > "$out"; times ) | awk 'END{split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2], s[1] * 60 + s[2]}'
}
# Four rounds of a quarter of the duration, direct, mecrouter and nginx in turn, each one's
# requests, time and CPU summed: a slow period of a shared host (the same binary has served half as
# many requests minutes apart, docs/benchmarks.md) then falls on all three, not on the one that ran.
declare -A N_ALL SECS_ALL U_ALL S_ALL EU_ALL ES_ALL WU_ALL WS_ALL ERRS
PART=$(( (DURATION + 3) / 4 ))
for r in 1 2 3 4; do
  for k in "${ORDER[@]}"; do
    read -r U0 S0 < <(cpu_ticks "${SERVER_PIDS[$k]}")
    read -r EU0 ES0 < <(cpu_ticks "${PIDS[0]}")
    read -r WU WS < <(wrk_cpu "$OUT/wrk_${k}_$r.txt" wrk -t1 -c64 -d${PART}s -s bench/wrk_post.lua "${URL[$k]}/v1/chat/completions")
    read -r U1 S1 < <(cpu_ticks "${SERVER_PIDS[$k]}")
    read -r EU1 ES1 < <(cpu_ticks "${PIDS[0]}")
    grep -q 'Requests/sec' "$OUT/wrk_${k}_$r.txt" || { echo "wrk failed against $k" >&2; exit 1; }
    # For `direct` the emulator is the server: its CPU is counted once, as the server's.
    [ "$k" = direct ] && { EU1=$EU0; ES1=$ES0; }
    N_ALL[$k]=$(( ${N_ALL[$k]:-0} + $(awk '/requests in/{print $1}' "$OUT/wrk_${k}_$r.txt") ))
    SECS_ALL[$k]=$(awk -v a="${SECS_ALL[$k]:-0}" '/requests in/{sub(/s,?$/, "", $4); print a + $4}' "$OUT/wrk_${k}_$r.txt")
    U_ALL[$k]=$(( ${U_ALL[$k]:-0} + U1 - U0 )); S_ALL[$k]=$(( ${S_ALL[$k]:-0} + S1 - S0 ))
    EU_ALL[$k]=$(( ${EU_ALL[$k]:-0} + EU1 - EU0 )); ES_ALL[$k]=$(( ${ES_ALL[$k]:-0} + ES1 - ES0 ))
    WU_ALL[$k]=$(awk -v a="${WU_ALL[$k]:-0}" -v b="$WU" 'BEGIN{print a + b}'); WS_ALL[$k]=$(awk -v a="${WS_ALL[$k]:-0}" -v b="$WS" 'BEGIN{print a + b}')
    ERRS[$k]+=$(awk '/Non-2xx|Socket errors/' "$OUT/wrk_${k}_$r.txt" | tr '\n' ' ')
  done
done
for k in "${ORDER[@]}"; do
  N=${N_ALL[$k]}
  RPS[$k]=$(awk -v n="$N" -v d="${SECS_ALL[$k]}" 'BEGIN{printf "%.2f", n / d}')
  # One line of figures the bound below needs (this server's CPU a request, the emulator's and
  # wrk's, this server's user time), then the line printed.
  { read -r "CPU_US[$k]" "OTHERS_US[$k]" "USER_US[$k]"; read -r cpu; } < <(awk -v u="${U_ALL[$k]}" -v s="${S_ALL[$k]}" \
    -v eu="${EU_ALL[$k]}" -v es="${ES_ALL[$k]}" -v wu="${WU_ALL[$k]}" -v ws="${WS_ALL[$k]}" -v t="$TICK" -v n="$N" -v d="${SECS_ALL[$k]}" -v cores="$(nproc)" 'BEGIN{
    if (n <= 0) { print "0 0 0"; print "-"; exit }
    user = u/t*1e6/n; sys = s/t*1e6/n; others = (eu+es)/t*1e6/n + (wu+ws)*1e6/n
    printf "%.3f %.3f %.3f\n", user + sys, others, user
    printf "CPU a request: %.1f us user + %.1f us system (%.0f%% of a core); emulator and wrk: %.1f us; all: %.0f%% of the cores\n",
      user, sys, (u+s)/t/d*100, others, ((u+s+eu+es)/t + wu + ws)/d/cores*100}')
  printf "  %-10s %10s req/s  %s %s\n" "$k" "${RPS[$k]}" "$cpu" "${ERRS[$k]:-}"
done
awk -v m="${RPS[mecrouter]}" -v n="${RPS[nginx]}" -v d="${RPS[direct]}" 'BEGIN{printf "  mecrouter / nginx = %.2f   mecrouter / direct = %.2f   nginx / direct = %.2f\n", m/n, m/d, n/d}'
# The same through mecrouter with a new prompt on every request: the complexity model runs on
# each (its memo, routing.estimate_memo, never answers).
wrk -t1 -c64 -d${DURATION}s -s bench/wrk_unique.lua "${URL[mecrouter]}/v1/chat/completions" > "$OUT/wrk_mecrouter_unique.txt"
RPS_U=$(awk '/Requests\/sec/{print $2}' "$OUT/wrk_mecrouter_unique.txt")
awk -v u="$RPS_U" -v n="${RPS[nginx]}" 'BEGIN{printf "  mecrouter, every prompt new: %.0f req/s = %.2f x nginx\n", u, u/n}'
# Wake-ups each proxy issues a request (docs/benchmarks.md, seventh pass): the one that sets the
# pace finds the emulator and wrk asleep and wakes one on nearly every send, which costs most in
# the host's slow periods. A separate short run, since counting adds a little to each wake-up.
# Needs perf and permission to count tracepoints; skipped otherwise.
if command -v perf > /dev/null && perf stat -e sched:sched_waking -- true > /dev/null 2>&1; then
  line="  wake-ups issued a request (perf stat -e sched:sched_waking, wrk 2 s):"
  for k in mecrouter nginx; do
    perf stat -x, -e sched:sched_waking -o "$TMP/wake_$k.txt" -p "$(echo ${SERVER_PIDS[$k]} | tr ' ' ',')" -- sleep 2.3 > /dev/null 2>&1 &
    wpid=$!; sleep 0.1
    n=$(wrk -t1 -c64 -d2s -s bench/wrk_post.lua "${URL[$k]}/v1/chat/completions" | awk '/requests in/{print $1}')
    wait "$wpid" || true
    w=$(awk -F, '/sched_waking/{print $1}' "$TMP/wake_$k.txt")
    line+=$(awk -v w="${w:-0}" -v n="${n:-0}" -v k="$k" 'BEGIN{if (n > 0 && w ~ /^[0-9]+$/) printf "  %s %.2f", k, w/n; else printf "  %s -", k}')
  done
  echo "$line"
fi

# h2load --rps starts its clients together and fires their timers together: with -c 8 and --rps
# R/8, the 8 requests leave in the same instant every 8/R s (bursts of 8 at 62.5/s for "500/s"), and
# a request's latency is mostly its place in the burst (docs/benchmarks.md, seventh pass). Requests
# that users send arrive apart: `load spread` starts the clients 1/R apart (h2load -r 1
# --rate-period), so the requests are evenly spaced, as wrk2's constant-throughput mode sends them.
# Per rate, the clients, each one's rate and the start period (h2load takes whole milliseconds):
# 496/s = 8 x 62 started 2 ms apart; 2,000/s = 5 x 400 started 1 ms apart (offsets 0, 1, 2, 0.5,
# 1.5 ms of a 2.5 ms period); 4,992/s = 16 x 312 started 1 ms apart (every 0.2 ms of 3.2 ms).
# load MODE RATE SECONDS URL LOG [h2load prefix...]: one open-loop run; its per-request log in LOG.
load() {
  local mode=$1 rate=$2 secs=$3 url=$4 log=$5; shift 5
  local c per args
  if [ "$mode" = burst ]; then
    c=8; per=$((rate / 8)); args=(-D "$secs")
  else
    case $rate in
      500) c=8; per=62; rp=2ms ;; 2000) c=5; per=400; rp=1ms ;; *) c=16; per=$((rate / 16)); rp=1ms ;;
    esac
    args=(-r 1 --rate-period "$rp" -n $((c * per * secs)))
  fi
  rm -f "$log"  # h2load appends to its log: an earlier run's requests would count
  "$@" h2load --h1 -c "$c" --rps "$per" "${args[@]}" -d bench/request.json -H 'Content-Type: application/json' \
    --log-file "$log" "$url/v1/chat/completions" > "$log.txt" 2>&1 || true
}
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END{i=int(NR*p); if(i<1)i=1; printf "%.0f", a[i]}'; }
# latency_table MODE PREFIX...: per rate, direct, mecrouter and nginx in turn, four times, each for a
# quarter of the duration, each one's requests pooled: the slow moments of a shared host (a few
# milliseconds, several times a second, in some periods) then fall on all three, not on the one
# that ran then. Prints p50/p99 and each proxy's added p50/p99 over direct.
latency_table() {
  local mode=$1; shift
  local part=$(( (DURATION + 3) / 4 ))
  for rate in ${RATES:-500 2000 5000}; do
    local line="  rate $rate/s:" k r
    declare -A P50 P99
    for k in "${ORDER[@]}"; do : > "$TMP/lat_$k.txt"; done
    for r in 1 2 3 4; do
      for k in "${ORDER[@]}"; do
        [ -n "${PIN_PROXY:-}" ] && [ "$k" != direct ] && pin "$LAST" "${SERVER_PIDS[$k]}"
        load "$mode" "$rate" "$part" "${URL[$k]}" "$OUT/h2load_${PIN_PROXY:+pinned_}${mode}_${k}_${rate}_$r.log" "$@"
        [ -n "${PIN_PROXY:-}" ] && [ "$k" != direct ] && pin "0-$LAST" "${SERVER_PIDS[$k]}"
        awk '$2==200{print $3}' "$OUT/h2load_${PIN_PROXY:+pinned_}${mode}_${k}_${rate}_$r.log" >> "$TMP/lat_$k.txt"   # elapsed microseconds
      done
    done
    for k in "${ORDER[@]}"; do
      P50[$k]=$(pct "$TMP/lat_$k.txt" 0.50); P99[$k]=$(pct "$TMP/lat_$k.txt" 0.99)
      line+=$(printf "  %s p50 %sus p99 %sus (n=%s)" "$k" "${P50[$k]}" "${P99[$k]}" "$(wc -l < "$TMP/lat_$k.txt")")
    done
    echo "$line"
    echo "    added p50 / p99 over direct: mecrouter $(( P50[mecrouter] - P50[direct] )) / $(( P99[mecrouter] - P99[direct] ))us, nginx $(( P50[nginx] - P50[direct] )) / $(( P99[nginx] - P99[direct] ))us;" \
      "mecrouter - nginx: p50 $(( P50[mecrouter] - P50[nginx] ))us (bound 50), p99 $(( P99[mecrouter] - P99[nginx] ))us (bound 100)"
  done
}
echo "== latency at fixed rates (open loop), requests evenly spaced: h2load --rps with its clients started 1/rate apart; 4 rounds of ${DURATION}/4 s, pooled"
latency_table spread
echo "== the same rates as synchronized bursts (h2load's default: all 8 clients send at once every 8/rate s)"
latency_table burst

# The same rates with each proxy on a core of its own: on 2 shared cores the figures above also
# measure where the kernel places the proxy beside the emulator and h2load (docs/benchmarks.md,
# fifth pass). Here the proxy (every thread) runs on the last CPU, the emulator and h2load on the
# others; the processes are unpinned again afterwards. A figure, not one of the issue's targets.
if [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
  LAST=$(( $(nproc) - 1 )); REST="0-$(( LAST - 1 ))"
  pin() { for p in $2; do taskset -a -p -c "$1" "$p" > /dev/null; done; }
  echo "== latency with the proxy on CPU $LAST alone (the emulator and h2load on CPU $REST), requests evenly spaced"
  pin "$REST" "${PIDS[0]}"
  PIN_PROXY=1 RATES='500 5000' latency_table spread taskset -c "$REST"
  pin "0-$LAST" "${PIDS[0]}"
fi

echo "== gateway CPU instructions per request (valgrind --tool=callgrind; N=2000 minus N=500, to cancel start-up)"
# instr N [YAML]: total instructions of a gateway that served N requests; YAML is appended to its
# config (a top-level key, e.g. the telemetry section). All threads count, the decision log's
# background writer included.
# ROUTING (optional) is added inside the routing block (e.g. ", estimate_memo: 0"); BODY (optional)
# is the request file (bench/request.json by default).
instr() {
  local n=$1 extra=${2:-} routing=${3:-} body=${4:-bench/request.json} port; port=$(free_port)
  sed -e "s/listen: 127.0.0.1:$GW/listen: 127.0.0.1:$port/" -e "s/auto_order: \[edge\]}/auto_order: [edge]$routing}/" "$TMP/gw.yaml" > "$TMP/cg.yaml"
  if [ -n "$extra" ]; then echo "$extra" >> "$TMP/cg.yaml"; fi
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$n" "$BIN" serve --config "$TMP/cg.yaml" --threads 1 > "$TMP/cg.log" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  h2load --h1 -c 4 -n $n -d "$body" -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/chat/completions" > "$TMP/cg_h2load.txt" 2>&1
  kill -TERM $pid; wait $pid || true
  # Prints the program total and, second, what the decision log's writer thread ran (0 if none).
  local tot run
  tot=$(callgrind_annotate "$TMP/cg.$n" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
  # --threshold=100: list every function (by default the listing stops at 99% of the total, and
  # a writer that costs under ~1% of the process would be missed and read as 0).
  run=$(callgrind_annotate --inclusive=yes --threshold=100 "$TMP/cg.$n" 2>/dev/null | awk '/mec::DecisionLog::Run\(\)/ && !d {gsub(",","",$1); print $1; d=1}')
  echo "$tot ${run:-0}"
}
read I1 _ < <(instr 500); read I2 _ < <(instr 2000)
echo "  total instructions: N=500 $I1, N=2000 $I2  =>  $(( (I2 - I1) / 1500 )) instructions per request"
echo "    (one prompt repeated, as bench/request.json: the complexity model's memo answers it)"
# What of it nginx does not do at all: the inclusive cost of the functions that hold the gateway's
# features (none of them calls another of the list): the request's JSON, context, decision, the
# answer's usage, telemetry and metrics at the end, the backend monitor, the route headers, the
# request ids, the upstream body, the decision registry, the key check.
FEATURES=':mec::ParseRequest\(|:mec::net::ProxyCall::Contextualize\(|:mec::net::ProxyCall::Decide\(|:mec::ExtractUsage\(|:mec::net::RequestTrace::~RequestTrace\(|:mec::RequestFlow::OnAttemptEnd\(|ProxyCall::AddRouteHeaders<|:mec::net::RequestIds::From\(|:mec::BuildUpstreamBody|:mec::net::ProxyCall::Remember\(|:mec::AccessGuard::Protects\('
features() { callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | awk -v re="$FEATURES" '$0 ~ re {gsub(",","",$1); s+=$1} END{print s+0}'; }
F_PER=$(( ($(features "$TMP/cg.2000") - $(features "$TMP/cg.500")) / 1500 ))
I_PER=$(( (I2 - I1) / 1500 ))
echo "    of which the features nginx has not (request JSON, context, decision, usage, telemetry, monitor, route headers, ids, key check): $F_PER; the rest (HTTP, sockets, Asio): $(( I_PER - F_PER ))"
# nginx counted the same way: one process (master_process off), the same configuration.
ngx_instr() {
  local n=$1 port; port=$(free_port); mkdir -p "$TMP/cgn/body" "$TMP/cgn/proxy"
  sed -e "s#@PREFIX@#$TMP/cgn#g" -e "s#@NGINX_PORT@#$port#g" -e "s#@UPSTREAM_PORT@#$EMU#g" -e "s#@WORKERS@#1#g" bench/nginx.conf > "$TMP/cgn/nginx.conf"
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cgn.$n" nginx -c "$TMP/cgn/nginx.conf" -p "$TMP/cgn" -e "$TMP/cgn/error.log" -g 'daemon off; master_process off;' > "$TMP/cgn.log" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data @bench/request.json "http://127.0.0.1:$port/v1/chat/completions" && break; sleep 0.1; done
  h2load --h1 -c 4 -n $n -d bench/request.json -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/chat/completions" > "$TMP/cgn_h2load.txt" 2>&1
  kill -QUIT $pid; wait $pid || true
  callgrind_annotate "$TMP/cgn.$n" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}'
}
N1=$(ngx_instr 500); N2=$(ngx_instr 2000)
NGX_PER=$(( (N2 - N1) / 1500 ))
echo "  nginx, counted the same way: $NGX_PER instructions per request (the gateway: $(awk -v a="$I_PER" -v b="$NGX_PER" 'BEGIN{printf "%.2f", a/b}')x; its part besides the features: $(awk -v a="$((I_PER - F_PER))" -v b="$NGX_PER" 'BEGIN{printf "%.2f", a/b}')x)"
# The bound on throughput / nginx (docs/benchmarks.md). On a machine whose cores the load generator
# and the emulator share, a run serves about (cores) / (CPU a request of all three) when the
# cores are busy: the ratio is (nginx + others) / (gateway + others). A gateway whose own layer
# cost in user space what nginx's does, with the lower of the two system times, would spend that
# plus its features' instructions at the gateway's user time per instruction: its best ratio.
awk -v cm="${CPU_US[mecrouter]}" -v cn="${CPU_US[nginx]}" -v um="${USER_US[mecrouter]}" -v un="${USER_US[nginx]}" \
    -v om="${OTHERS_US[mecrouter]}" -v on="${OTHERS_US[nginx]}" -v i="$I_PER" -v f="$F_PER" -v m="${RPS[mecrouter]}" -v n="${RPS[nginx]}" 'BEGIN{
  if (cm <= 0 || cn <= 0 || i <= 0) exit;
  o = (om + on) / 2; sys = cm - um; if (cn - un < sys) sys = cn - un;
  floor = sys + un + f * um / i;
  printf "  bound: CPU a request predicts %.2f x nginx for the gateway as it is (measured %.2f); with a user-space HTTP/socket layer as\n", (cn + o) / (cm + o), m / n;
  printf "    lean as nginx, the lower system time and these features (%.1f us of user time): %.1f us a request, at best %.2f x nginx\n", f * um / i, floor, (cn + o) / (floor + o)}'
read U1 _ < <(instr 500 "" ", estimate_memo: 0"); read U2 _ < <(instr 2000 "" ", estimate_memo: 0")
echo "  every prompt new (routing.estimate_memo: 0): $(( (U2 - U1) / 1500 )) instructions per request"
# A streamed answer (bench/request_stream.json): per request, and per SSE event the client gets.
CHUNKS=$(curl -s -N -X POST -H 'Content-Type: application/json' --data @bench/request_stream.json "${URL[mecrouter]}/v1/chat/completions" | grep -c '^data:')
read S1 _ < <(instr 500 "" "" bench/request_stream.json); read S2 _ < <(instr 2000 "" "" bench/request_stream.json)
awk -v s1="$S1" -v s2="$S2" -v c="$CHUNKS" 'BEGIN{per=(s2-s1)/1500; printf "  streamed (%d SSE events each, [DONE] included): %d instructions per request, %d per event\n", c, per, per/c}'
# The same with the SQLite decision log on (issue 6). Metrics are on in both. The writer thread
# is off the request path; its share is shown apart.
LOGYAML="telemetry: {decision_log: {path: $TMP/cg_decisions.db}}"
rm -f "$TMP"/cg_decisions.db*; read J1 W1 < <(instr 500 "$LOGYAML")
rm -f "$TMP"/cg_decisions.db*; read J2 W2 < <(instr 2000 "$LOGYAML")
awk -v i1="$I1" -v i2="$I2" -v j1="$J1" -v j2="$J2" -v w1="$W1" -v w2="$W2" 'BEGIN{off=(i2-i1)/1500; on=(j2-j1)/1500; w=(w2-w1)/1500;
  printf "  decision log on: %d instructions per request in all threads (%+.1f%% over off), of which the SQLite writer thread %d;\n", on, 100*(on-off)/off, w;
  printf "    the request path (all other threads): %d (%+.1f%% over off)\n", on-w, 100*(on-w-off)/off}'

echo "== memory with 10,000 idle connections (issue 17): the gateway's RSS before, while held, after"
# Idle connections send nothing: each is closed by the gateway after header_timeout_ms (10 s), so
# they are held 5 s. Needs 10,000+ open files in both processes.
GWPID=${PIDS[1]}
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
R0=$(rss "$GWPID")
coproc IDLE { scripts/node.sh bench/idle_conns.mjs "$GW" 10000 5000; }
read -r OPENED <&"${IDLE[0]}"
sleep 1; R1=$(rss "$GWPID"); FD1=$(ls "/proc/$GWPID/fd" | wc -l)
read -r _ <&"${IDLE[0]}"; wait "$IDLE_PID" 2>/dev/null || true
sleep 2; R2=$(rss "$GWPID"); FD2=$(ls "/proc/$GWPID/fd" | wc -l)
echo "  $OPENED idle connections: RSS ${R0} kB before, ${R1} kB while held ($(( (R1 - R0) * 1024 / 10000 )) bytes per connection), ${R2} kB after; fds ${FD1} held, ${FD2} after"

echo "== start-up, idle memory, binary size"
SPORT=$(free_port)
sed "s/listen: 127.0.0.1:$GW/listen: 127.0.0.1:$SPORT/" "$TMP/gw.yaml" > "$TMP/start.yaml"
for i in 1 2 3; do scripts/node.sh bench/start_time.mjs "$SPORT" "$BIN" serve --config "$TMP/start.yaml"; done > "$TMP/start.txt"
READY_MS=$(awk '{print $2}' "$TMP/start.txt" | sort -n | sed -n 2p); IDLE_KB=$(awk '{print $4}' "$TMP/start.txt" | sort -n | sed -n 2p)
awk -v ms="$READY_MS" -v kb="$IDLE_KB" 'BEGIN{printf "  start to ready (GET /readyz 200): median %s ms of 3; idle RSS %.1f MB\n", ms, kb/1024}'
cp "$BIN" "$TMP/stripped" && strip "$TMP/stripped"
awk -v a="$(stat -c %s "$BIN")" -v b="$(stat -c %s "$TMP/stripped")" 'BEGIN{printf "  binary: %.1f MB, %.1f MB stripped\n", a/1048576, b/1048576}'

echo "== scaling from 1 to 2 worker threads (wrk -t2 -c64; the machine's cores are shared with wrk and the emulator)"
GW2=$(free_port); NGX2=$(free_port)
sed -e "s/listen: 127.0.0.1:$GW, threads: $THREADS/listen: 127.0.0.1:$GW2, threads: 2/" "$TMP/gw.yaml" > "$TMP/gw2.yaml"
"$BIN" serve --config "$TMP/gw2.yaml" > "$TMP/gw2.log" 2>&1 & PIDS+=($!)
mkdir -p "$TMP/n2/body" "$TMP/n2/proxy"
sed -e "s#@PREFIX@#$TMP/n2#g" -e "s#@NGINX_PORT@#$NGX2#g" -e "s#@UPSTREAM_PORT@#$EMU#g" -e "s#@WORKERS@#2#g" bench/nginx.conf > "$TMP/n2/nginx.conf"
nginx -c "$TMP/n2/nginx.conf" -p "$TMP/n2" -e "$TMP/n2/error.log"
wait_port $GW2
for _ in $(seq 50); do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data @bench/request.json "http://127.0.0.1:$NGX2/v1/chat/completions" && break; sleep 0.1; done
declare -A R2
for k in mecrouter1:$GW mecrouter2:$GW2 nginx1:$NGX nginx2:$NGX2; do
  wrk -t2 -c64 -d${DURATION}s -s bench/wrk_post.lua "http://127.0.0.1:${k#*:}/v1/chat/completions" > "$OUT/wrk_scale_${k%%:*}.txt"
  R2[${k%%:*}]=$(awk '/Requests\/sec/{print $2}' "$OUT/wrk_scale_${k%%:*}.txt")
done
[ -f "$TMP/n2/nginx.pid" ] && kill "$(cat "$TMP/n2/nginx.pid")" 2>/dev/null || true
awk -v a="${R2[mecrouter1]}" -v b="${R2[mecrouter2]}" -v c="${R2[nginx1]}" -v d="${R2[nginx2]}" 'BEGIN{
  printf "  mecrouter: 1 thread %.0f req/s, 2 threads %.0f (x%.2f);  nginx: 1 worker %.0f, 2 workers %.0f (x%.2f)\n", a, b, b/a, c, d, d/c}'

echo "== micro-benchmarks (Google Benchmark)"
for b in "$BUILD"/*_bench; do
  [ -x "$b" ] || continue
  echo "-- $(basename "$b")"
  # The decision's target is a median (issue 15): route_bench runs 5 repetitions and prints their
  # mean, median and spread, so one slow moment of a shared host does not stand for the figure.
  reps=(); [ "$(basename "$b")" = route_bench ] && reps=(--benchmark_repetitions=5 --benchmark_display_aggregates_only=true)
  "$b" --benchmark_min_time=0.2 "${reps[@]}" 2>/dev/null | grep -E '^[A-Za-z]' || true
done
