#!/usr/bin/env bash
# The operator's resident memory with the demo's handful of Deployments (the baseline) and with
# N more realistic ones (two containers, 20 env entries, kubectl's last-applied annotation,
# managedFields from three managers; see reference/main.go), for each N given, in one run, against
# a client-go shared informer holding the same Deployments (reference informer: as a Go operator
# keeps them, and with managedFields dropped by a transform).
#
#   tests/benchmarks/memory.sh [N…]     (default: 1000 10000; BENCH_NAMESPACES, default 20)
#
# For each population the operator is measured twice (VmRSS of /proc/PID/status once it is
# idle, its Events sent, and its heap trimmed: runtime/heap_trim.h): "converged" is the run that brought every Deployment to the root policy (--qps 0, so the
# first rollout of 10,000 takes minutes, not a quarter of an hour), "restarted" a second start
# with default flags on the converged cluster (steady-state memory; it must write nothing).
set -euo pipefail
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(1000 10000)
NSS=${BENCH_NAMESPACES:-20}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cp_up
# The demo's workloads, in the run's namespaces (bench-shop, bench-payments; the root namespace
# replaces tracing-system), labelled for the run so the root policy selects them.
sed -e "s/^metadata: {name: \(shop\|payments\), labels: {tier: prod}}/metadata: {name: ${PREFIX}\1, labels: {tier: prod, tracing-bench: $RUN}}/" \
  -e "s/^  namespace: \(shop\|payments\)\$/  namespace: ${PREFIX}\1/" \
  -e "s/^metadata: {name: tracing-system}/metadata: {name: $ROOT_NS}/" \
  "$ROOT/examples/demo/workloads.yaml" | k apply --server-side -f - >/dev/null
NAMESPACES+=("${PREFIX}shop" "${PREFIX}payments")
for ns in "${PREFIX}shop" "${PREFIX}payments"; do
  k label deployment --all -n "$ns" "tracing-bench=$RUN" >/dev/null
done
root_policy 0.1
failures=()
declare -A R

# measure TAG COUNT: the operator converging COUNT Deployments and restarted on them, and the
# Go informer; sets R[TAG.*] (bytes).
measure() {
  local tag=$1 count=$2
  log "$tag ($count Deployments): operator converging…"
  await 0.1 "$count" "$LOGS/$tag.await"
  local t0=$SECONDS
  op_start "$tag-converge" --qps 0
  await_done "$LOGS/$tag.await"
  op_wait_idle "$count"
  R[$tag.converge_s]=$((SECONDS - t0))
  op_wait_trimmed
  R[$tag.converged]=$("$BL" rss "$OP_PID")
  R[$tag.converged_hwm]=$(awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$OP_PID/status")
  op_stop
  log "$tag: operator restarted (default flags)…"
  local off
  off=$(audit_offset)
  op_start "$tag-restart"
  op_wait_idle "$count"
  op_wait_trimmed
  op_metrics "$LOGS/$tag.restart.metrics"
  R[$tag.restarted]=$("$BL" rss "$OP_PID")
  R[$tag.restarted_hwm]=$(awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$OP_PID/status")
  R[$tag.restart_writes]=$(writes_between /dev/null "$LOGS/$tag.restart.metrics")
  op_stop
  local a
  a=$(audit_field "$(audit_since "$off")" "tracing-operator" writes)
  [[ ${R[$tag.restart_writes]} == 0 && $a == 0 ]] ||
    failures+=("$tag: the restart wrote ${R[$tag.restart_writes]} times (audit $a)")
  log "$tag: Go informer…"
  local objects
  read -r _ objects _ rss _ <<<"$("$REF" informer)"
  R[$tag.informer]=$rss
  read -r _ _ _ rss _ <<<"$("$REF" informer --strip-managed-fields)"
  R[$tag.informer_strip]=$rss
  R[$tag.objects]=$objects
}

base_count=$(k get deploy -A -l "tracing-bench=$RUN" --no-headers | wc -l)
measure baseline "$base_count"
have=0
for n in "${SIZES[@]}"; do
  ((n > have)) || die "sizes must grow: $n after $have"
  log "adding $((n - have)) realistic Deployments in $NSS namespaces…"
  populate $((n - have)) "$NSS" "$have" >&2
  have=$n
  measure "n$n" $((n + base_count))
done

mib() { calc "$1 / 2**20" .1f; }
say "resident memory (VmRSS when idle; $(date -u +%F), $(nproc) cores)"
printf '  %-26s %11s %11s %11s %11s %12s\n' "Deployments" "operator" "restarted" "informer" "inf. -mF" "op/informer" | sed 's/^/ /'
for tag in baseline "${SIZES[@]/#/n}"; do
  count=$([[ $tag == baseline ]] && echo "$base_count (demo)" || echo "$((${tag#n} + base_count))")
  printf '   %-26s %7s MiB %7s MiB %7s MiB %7s MiB %12s\n' "$count" "$(mib "${R[$tag.converged]}")" \
    "$(mib "${R[$tag.restarted]}")" "$(mib "${R[$tag.informer]}")" "$(mib "${R[$tag.informer_strip]}")" \
    "$(fmt_ratio "${R[$tag.restarted]}" "${R[$tag.informer]}")"
done
for n in "${SIZES[@]}"; do
  t=n$n
  say "  $((n + base_count)) Deployments: operator (restarted) $(fmt_ratio "${R[$t.restarted]}" "${R[baseline.restarted]}") × its baseline, $(calc "(${R[$t.restarted]} - ${R[baseline.restarted]}) / $n / 1024" .1f) KiB per Deployment; after converging them $(fmt_ratio "${R[$t.converged]}" "${R[baseline.converged]}") × (peak $(mib "${R[$t.converged_hwm]}") MiB, converged in ${R[$t.converge_s]} s); informer $(fmt_ratio "${R[$t.informer]}" "${R[baseline.informer]}") × its baseline, $(calc "(${R[$t.informer]} - ${R[baseline.informer]}) / $n / 1024" .1f) KiB per Deployment"
done
say "  (operator: after converging them with --qps 0; restarted: a second start, default flags, on the converged cluster; informer: client-go, all Deployments of the cluster (${R[n${SIZES[-1]}.objects]} at the end); inf. -mF: with managedFields dropped by a transform)"
end_run
