#!/usr/bin/env bash
# A cluster-wide ratio change: a root policy governs N realistic Deployments over ~20 namespaces;
# after the operator has converged, the policy's ratio is edited, and the time until every
# Deployment carries the new OTEL_TRACES_SAMPLER_ARG is measured — against, in the same run,
#   (a) the raw parallel driver (reference patch: 16 strategic-merge PATCHes in flight, no
#       client-side rate limit) writing a variable into every Deployment: the limit here;
#   (a') the same driver writing it with server-side apply, the operator's kind of write;
#   (a'') the same, in JSON both ways, as the operator speaks (client-go's default is protobuf);
#   (b) `kubectl set env deployment --all -n NS` per namespace, one namespace after another.
# An operator run with --qps 0 converges them first (the first rollout, reported). Then the
# operator is started on the converged cluster with its default flags (--qps auto) for a ratio
# edit, then with --qps 20 --burst 30 (a client-side limit) for another; neither start may write
# anything.
#
#   tests/benchmarks/cluster_change.sh [N]     (default 1000; BENCH_NAMESPACES, default 20)
#
# Writes are counted twice: the operator's own /metrics (tracing_operator_api_requests_total
# {kind="write"}) and the API server's audit log (per resource; per Deployment). Exit status 1 when
# the operator does not write every Deployment exactly once, or a restart writes anything; no
# timing is asserted. See lib.sh for the control plane (no kube-controller-manager by default).
set -euo pipefail
N=${1:-1000}
NSS=${BENCH_NAMESPACES:-20}
((NSS <= N)) || NSS=$N
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cp_up
log "creating $N realistic Deployments in $NSS namespaces…"
populate "$N" "$NSS" >&2
failures=()

# (a) the raw driver.
log "raw driver…"
off=$(audit_offset)
read -r _ raw_count _ raw_s _ raw_wps _ <<<"$("$REF" patch --selector "tracing-bench=$RUN" --env BENCH_MARK=raw-1)"
raw_writes=$(audit_field "$(audit_since "$off")" "admin (tracing-bench-reference)" deployment_writes)
((raw_count == N && raw_writes == N)) || failures+=("raw driver wrote $raw_writes of $N Deployments")

# (a') the same driver with server-side apply (forced, a field manager of its own): what the
# operator's kind of write costs the API server here.
log "raw driver, server-side apply…"
off=$(audit_offset)
read -r _ ssa_count _ ssa_s _ ssa_wps _ <<<"$("$REF" patch --selector "tracing-bench=$RUN" --env BENCH_MARK=ssa-1 --type apply --field-manager raw-ssa-driver)"
ssa_writes=$(audit_field "$(audit_since "$off")" "admin (tracing-bench-reference)" deployment_writes)
((ssa_count == N && ssa_writes == N)) || failures+=("raw SSA driver wrote $ssa_writes of $N Deployments")

# (a'') server-side apply in JSON: what the operator's kind of write, in its protocol, costs.
log "raw driver, server-side apply, JSON…"
off=$(audit_offset)
read -r _ json_count _ json_s _ json_wps _ <<<"$("$REF" patch --selector "tracing-bench=$RUN" --env BENCH_MARK=json-1 --type apply --field-manager raw-ssa-driver --json)"
json_writes=$(audit_field "$(audit_since "$off")" "admin (tracing-bench-reference)" deployment_writes)
((json_count == N && json_writes == N)) || failures+=("raw SSA driver (JSON) wrote $json_writes of $N Deployments")

# (b) kubectl set env, namespace by namespace.
log "kubectl set env…"
off=$(audit_offset)
t0=$(date +%s.%N)
for ((i = 0; i < NSS; i++)); do
  k set env deployment --all -n "$(printf '%s%02d' "$PREFIX" "$i")" BENCH_MARK=kubectl-1 >/dev/null
done
t1=$(date +%s.%N)
kubectl_s=$(calc "$t1 - $t0" .3f)
kubectl_writes=$(audit_field "$(audit_since "$off")" "admin (kubectl)" deployment_writes)
((kubectl_writes == N)) || failures+=("kubectl wrote $kubectl_writes of $N Deployments")

root_policy 0.1
log "first rollout (an operator with --qps 0)…"
off=$(audit_offset)
converge 0.1 "$N"
first_requests=$(audit_requests "$(audit_since "$off")" "tracing-operator")
declare -A R
# variant TAG OLD NEW [FLAGS…]: start the operator on the cluster converged on ratio OLD, edit
# the policy to NEW.
variant() {
  local tag=$1 old=$2 new=$3; shift 3
  local f=$LOGS/$tag
  log "operator ($tag: ${*:-default flags}): start on the converged cluster…"
  local t0 off0 a
  off0=$(audit_offset)
  t0=$(date +%s.%N)
  op_start "$tag" "$@"
  op_wait_idle "$N"
  op_metrics "$f.m0"
  R[$tag.start_audit]=$(audit_field "$(audit_since "$off0")" "tracing-operator" writes)
  R[$tag.start_idle_s]=$(calc "$(date +%s.%N) - $t0" .1f)
  R[$tag.start_writes]=$(writes_between /dev/null "$f.m0")
  R[$tag.start_cpu]=$(op_cpu)

  log "operator ($tag): ratio $old → $new…"
  await "$new" "$N" "$f.await1"
  local off1 cpu0 t1 done1
  off1=$(audit_offset)
  cpu0=$(op_cpu)
  "$BL" threads "$OP_PID" >"$f.threads0"
  t1=$(date +%s.%N)
  k patch tp bench -n "$ROOT_NS" --type merge -p "{\"spec\":{\"sampling\":{\"ratio\":\"$new\"}}}" >/dev/null
  await_done "$f.await1"
  done1=$DONE_AT
  local cpu_done
  cpu_done=$(op_cpu)
  "$BL" threads "$OP_PID" >"$f.threads1"
  R[$tag.busiest]=$("$BL" busiest "$f.threads0" "$f.threads1")
  op_wait_idle "$N"
  local t_idle
  t_idle=$(date +%s.%N)
  op_metrics "$f.m1"
  R[$tag.s]=$(calc "$done1 - $t1" .1f)
  R[$tag.idle_s]=$(calc "$t_idle - $t1" .1f)
  R[$tag.cpu]=$(calc "$cpu_done - $cpu0" .2f)
  R[$tag.cpu_idle]=$(calc "$(op_cpu) - $cpu0" .2f)
  R[$tag.writes]=$(writes_between "$f.m0" "$f.m1")
  a=$(audit_since "$off1")
  R[$tag.dep_writes]=$(audit_field "$a" "tracing-operator" deployment_writes)
  R[$tag.deps_written]=$(audit_field "$a" "tracing-operator" deployments_written)
  R[$tag.max_per_dep]=$(audit_field "$a" "tracing-operator" max_writes_per_deployment)
  R[$tag.requests]=$(audit_requests "$a" "tracing-operator")
  "$BL" delta "$f.m0" "$f.m1" >"$f.delta"
  R[$tag.reconciles]=$(python3 -c '
import sys
d = {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in open(sys.argv[1])}
out = []
for c in ("workload", "policy", "cluster"):
    n = d.get(f"tracing_operator_reconciles_total{{controller=\"{c}\"}}", 0)
    w = sum(v for k, v in d.items() if k.startswith("tracing_operator_reconcile_duration_seconds_sum") and f"controller=\"{c}\"" in k)
    out.append(f"{c} {n:.0f} ({w:.1f} s wall inside)")
print(", ".join(out))' "$f.delta")
  op_stop
  if [[ ${R[$tag.dep_writes]} != "$N" || ${R[$tag.deps_written]} != "$N" ]]; then
    failures+=("$tag: the operator wrote ${R[$tag.dep_writes]} times to ${R[$tag.deps_written]} of $N Deployments (want each exactly once)")
  fi
}

variant default 0.1 0.2
variant qps20 0.2 0.3 --qps 20
for tag in default qps20; do
  [[ ${R[$tag.start_writes]} == 0 && ${R[$tag.start_audit]} == 0 ]] ||
    failures+=("the restart ($tag) wrote ${R[$tag.start_writes]} times (audit ${R[$tag.start_audit]}; want 0)")
done

op_wps() { calc "$N / ${R[$1.s]}" .1f; }
kubectl_wps=$(calc "$N / $kubectl_s" .1f)
say "cluster-wide change: $N Deployments in $NSS namespaces ($(date -u +%F), $(nproc) cores)"
say "  first rollout (operator, --qps 0): every Deployment carried the ratio after $CONVERGE_S s; $CONVERGE_WRITES writes, $CONVERGE_CPU s CPU; audit: $first_requests"
say "  raw driver (16 PATCHes in flight):      $raw_s s, $raw_wps Deployments/s, $raw_writes writes (1.00 per Deployment)"
say "  raw driver, server-side apply (16 in flight): $ssa_s s, $ssa_wps Deployments/s, $ssa_writes writes; $(fmt_ratio "$ssa_wps" "$raw_wps") × the raw driver"
say "  raw driver, server-side apply, JSON (the operator's protocol): $json_s s, $json_wps Deployments/s, $json_writes writes; $(fmt_ratio "$json_wps" "$raw_wps") × the raw driver"
say "  kubectl set env --all, per namespace:  $kubectl_s s, $kubectl_wps Deployments/s, $kubectl_writes writes; $(fmt_ratio "$kubectl_wps" "$raw_wps") × the raw driver"
for tag in default qps20; do
  flags=$([[ $tag == default ]] && echo "default flags (--qps auto: no client-side limit under the server's Priority and Fairness)" || echo "--qps 20 --burst 30 (a client-side limit, as before)")
  say "  operator, $flags:"
  say "    ratio edit → every Deployment carries it: ${R[$tag.s]} s, $(op_wps "$tag") Deployments/s; $(fmt_ratio "$(op_wps "$tag")" "$raw_wps") × the raw driver, $(fmt_ratio "$(op_wps "$tag")" "$ssa_wps") × its SSA, $(fmt_ratio "$(op_wps "$tag")" "$json_wps") × its SSA in JSON, $(fmt_ratio "$(op_wps "$tag")" "$kubectl_wps") × kubectl (idle after ${R[$tag.idle_s]} s)"
  say "    writes: ${R[$tag.writes]} ($(calc "${R[$tag.writes]} / $N" .2f) per Deployment); Deployment writes ${R[$tag.dep_writes]} to ${R[$tag.deps_written]} Deployments (at most ${R[$tag.max_per_dep]} each)"
  say "    by request (audit): ${R[$tag.requests]}"
  say "    operator CPU: ${R[$tag.cpu]} s until carried ($(calc "${R[$tag.cpu]} * 1000 / $N" .1f) ms per Deployment), ${R[$tag.cpu_idle]} s until idle; busiest threads until carried: ${R[$tag.busiest]}"
  say "    reconciles: ${R[$tag.reconciles]}"
  say "    its restart on the converged cluster: idle after ${R[$tag.start_idle_s]} s; ${R[$tag.start_writes]} writes (audit ${R[$tag.start_audit]}; must be 0); ${R[$tag.start_cpu]} s CPU"
done
end_run
