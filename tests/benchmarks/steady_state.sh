#!/usr/bin/env bash
# Steady state: N realistic Deployments governed by a root policy, already converged (by an
# operator run with --qps 0 beforehand). Then:
#   1. the operator starts with its default flags on the converged cluster: writes (must be 0),
#      CPU and time until idle;
#   2. it runs untouched for D seconds (default 300): writes (must be 0), CPU seconds,
#      reconciles, API requests;
#   3. it is restarted with --resync-period R (default 60s) and left for two resync periods:
#      every workload is reconciled again with nothing to do, which gives the CPU per no-op
#      reconcile; its restart and the resyncs must write nothing.
#
#   tests/benchmarks/steady_state.sh [N] [D]  (defaults 10000, 300; BENCH_RESYNC=60s,
#                                                BENCH_NAMESPACES=20)
#
# Exit status 1 when anything is written; no timing or CPU is asserted.
set -euo pipefail
N=${1:-10000}
D=${2:-300}
RESYNC=${BENCH_RESYNC:-60s}
NSS=${BENCH_NAMESPACES:-20}
((NSS <= N)) || NSS=$N
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resync_s=$(python3 -c 'import re,sys; m=re.fullmatch(r"(\d+)(s|m)", sys.argv[1]) or sys.exit("BENCH_RESYNC: Ns or Nm"); print(int(m[1]) * (60 if m[2] == "m" else 1))' "$RESYNC")

converged_population "$N" "$NSS"
failures=()
f=$LOGS/steady

# 1. A start with the default flags on the converged cluster.
log "operator (default flags): start on the converged cluster…"
off=$(audit_offset)
t0=$(date +%s.%N)
op_start steady
op_wait_idle "$N"
start_idle=$(calc "$(date +%s.%N) - $t0" .1f)
op_metrics "$f.m0"
start_cpu=$(op_cpu)
start_writes=$(writes_between /dev/null "$f.m0")
start_audit=$(audit_field "$(audit_since "$off")" "tracing-operator" writes)
start_reconciles=$(metric "$f.m0" 'tracing_operator_reconciles_total{controller="workload"}' | cut -d. -f1)
((start_writes == 0 && start_audit == 0)) ||
  failures+=("the start on a converged cluster wrote $start_writes times (audit: $start_audit)")

# 2. D seconds untouched.
log "steady for $D s…"
off=$(audit_offset)
cpu0=$(op_cpu)
sleep "$D"
cpu1=$(op_cpu)
op_metrics "$f.m1"
rss=$("$BL" rss "$OP_PID")
steady_writes=$(writes_between "$f.m0" "$f.m1")
steady_audit=$(audit_field "$(audit_since "$off")" "tracing-operator" writes)
"$BL" delta "$f.m0" "$f.m1" >"$f.delta"
steady_moved=$(awk '/^tracing_operator_(reconciles_total|api_requests_total|api_responses_total|informer_lists_total)/ {printf "%s%s +%d", sep, $1, $2; sep=", "}' "$f.delta")
steady_cpu=$(calc "$cpu1 - $cpu0" .2f)
((steady_writes == 0 && steady_audit == 0)) ||
  failures+=("steady state wrote $steady_writes times (audit: $steady_audit)")
op_stop

# 3. No-op reconciles: a restart with a short resync period, then two resync periods.
log "operator (--resync-period $RESYNC): restart, then $((2 * resync_s)) s of resyncs…"
off=$(audit_offset)
op_start resync --resync-period "$RESYNC"
op_wait_idle "$N"
op_metrics "$f.m2"
cpu2=$(op_cpu)
sleep $((2 * resync_s))
# Let the last resync's reconciles finish.
op_wait_idle "$N"
cpu3=$(op_cpu)
op_metrics "$f.m3"
resync_writes=$(writes_between /dev/null "$f.m3")
resync_audit=$(audit_field "$(audit_since "$off")" "tracing-operator" writes)
((resync_writes == 0 && resync_audit == 0)) ||
  failures+=("the restart with --resync-period and its resyncs wrote $resync_writes times (audit: $resync_audit)")
noop_reconciles=$(($(metric "$f.m3" 'tracing_operator_reconciles_total{controller="workload"}' | cut -d. -f1) -
                   $(metric "$f.m2" 'tracing_operator_reconciles_total{controller="workload"}' | cut -d. -f1)))
other_reconciles=$(python3 -c '
import sys
def load(p):
    return {l.rsplit(" ",1)[0]: float(l.rsplit(" ",1)[1]) for l in open(p) if l.startswith("tracing_operator_reconciles_total")}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(", ".join(f"{k.split(chr(34))[1]} {int(b[k]-a.get(k,0))}" for k in b if "workload" not in k))' "$f.m2" "$f.m3")
noop_cpu=$(calc "$cpu3 - $cpu2" .2f)
noop_sum=$(calc "$(metric "$f.m3" 'tracing_operator_reconcile_duration_seconds_sum{controller="workload",result="success"}') - $(metric "$f.m2" 'tracing_operator_reconcile_duration_seconds_sum{controller="workload",result="success"}')" .3f)
op_stop

per_noop=$( ((noop_reconciles > 0)) && calc "$noop_cpu * 1e6 / $noop_reconciles" .0f || echo n/a)
wall_noop=$( ((noop_reconciles > 0)) && calc "$noop_sum * 1e6 / $noop_reconciles" .0f || echo n/a)
say "steady state: $N Deployments in $NSS namespaces, converged ($(date -u +%F), $(nproc) cores)"
say "  start with default flags on the converged cluster: idle after $start_idle s, $start_writes writes (audit $start_audit), $start_cpu s CPU, $start_reconciles workload reconciles ($(calc "$start_cpu * 1e6 / $N" .0f) µs CPU per Deployment, lists included)"
say "  $D s untouched: $steady_writes writes (audit $steady_audit), $steady_cpu s CPU ($(calc "$steady_cpu * 100 / $D" .3f) % of a core), resident $(calc "$rss / 2**20" .1f) MiB; counters that moved: ${steady_moved:-none}"
say "  no-op reconciles (--resync-period $RESYNC, $((2 * resync_s)) s): $noop_reconciles workload reconciles (also: $other_reconciles), $noop_cpu s CPU: $per_noop µs CPU per no-op reconcile ($wall_noop µs wall inside reconcile); $resync_writes writes (audit $resync_audit) including its restart"
end_run
