#!/usr/bin/env bash
# Event-to-patch latency: a root policy governs N realistic Deployments, converged (by an operator
# run with --qps 0 beforehand). Someone else (reference edit: field manager someone-else, one
# merge PATCH each) then edits every one of them, RATE a second, in namespace/name order: the
# Deployment's app.kubernetes.io/name label becomes "<name>-<tag>". The label names the service,
# so the operator must answer each edit with one patch setting OTEL_SERVICE_NAME to the new value
# in both containers. Measured, per edit:
#   - latency: from the edit's response (committed) to the watch delivering the Deployment that
#     carries the answer, on the Go program's clock (its watch is a client-go informer on the
#     same Deployments); p50, p99, max;
#   - the same on the API server's clock: the audit log's stageTimestamp of the edit and of the
#     operator's next write to that Deployment;
#   - baselines measured in the same run: the edits' own write latency (request → response) and
#     the watch's delivery of the edit (response → edited object seen), the floor of any answer.
# The operator runs with its default flags (--qps auto), then restarted with --qps 0, a
# fresh round of edits for each.
#
#   tests/benchmarks/latency.sh [N] [RATE]   (defaults 1000, 100; BENCH_NAMESPACES, default 20)
#
# Exit status 1 when an edit is not answered, or the operator writes a Deployment other than
# exactly once per edit; no time is asserted. See lib.sh for the control plane.
set -euo pipefail
N=${1:-1000}
RATE=${2:-100}
NSS=${BENCH_NAMESPACES:-20}
((NSS <= N)) || NSS=$N
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

converged_population "$N" "$NSS"
failures=()
declare -A R

# variant TAG [FLAGS…]: the operator, idle on the converged cluster, answering a round of edits.
variant() {
  local tag=$1; shift
  local f=$LOGS/$tag
  log "operator ($tag: ${*:-default flags}): start on the converged cluster…"
  op_start "$tag" "$@"
  op_wait_idle "$N"
  op_metrics "$f.m0"
  log "operator ($tag): $N edits by someone else at $RATE/s…"
  local off cpu0 a
  off=$(audit_offset)
  cpu0=$(op_cpu)
  "$REF" edit --selector "tracing-bench=$RUN" --suffix "$tag" --rate "$RATE" --out "$f.tsv" \
    --timeout 30m >"$f.edit" || die "operator ($tag): edits unanswered (see $f.edit, $LOGS)"
  R[$tag.cpu]=$(calc "$(op_cpu) - $cpu0" .2f)
  op_wait_idle "$N"
  op_metrics "$f.m1"
  # edit KEY: a figure of the edit round's report.
  local key
  for key in edits edit_rate write_p50_ms write_p99_ms watch_p50_ms watch_p99_ms latency_count \
    latency_p50_ms latency_p99_ms latency_max_ms answered_until_s; do
    R[$tag.$key]=$(awk -v k="$key" '$1 == k {print $2}' "$f.edit")
  done
  read -r _ R[$tag.audit_edited] _ R[$tag.audit_answered] _ R[$tag.audit_p50] _ R[$tag.audit_p99] \
    _ R[$tag.audit_max] <<<"$("$BL" latency "$AUDIT" "$off" "admin (tracing-bench-reference)" "tracing-operator")"
  R[$tag.writes]=$(writes_between "$f.m0" "$f.m1")
  R[$tag.events]=$(events_between "$f.m0" "$f.m1")
  a=$(audit_since "$off")
  R[$tag.dep_writes]=$(audit_field "$a" "tracing-operator" deployment_writes)
  R[$tag.deps_written]=$(audit_field "$a" "tracing-operator" deployments_written)
  R[$tag.edit_writes]=$(audit_field "$a" "admin (tracing-bench-reference)" deployment_writes)
  R[$tag.requests]=$(audit_requests "$a" "tracing-operator")
  op_stop
  if [[ ${R[$tag.dep_writes]} != "$N" || ${R[$tag.deps_written]} != "$N" || ${R[$tag.edit_writes]} != "$N" ]]; then
    failures+=("$tag: $N edits (audit: ${R[$tag.edit_writes]}) answered by ${R[$tag.dep_writes]} operator writes to ${R[$tag.deps_written]} Deployments (want each exactly once)")
  fi
}

variant default
variant qps0 --qps 0

say "event-to-patch latency: $N Deployments in $NSS namespaces, each edited once by someone else at $RATE/s ($(date -u +%F), $(nproc) cores)"
say "  first rollout (operator, --qps 0): every Deployment configured after $CONVERGE_S s; $CONVERGE_WRITES writes"
for tag in default qps0; do
  flags=$([[ $tag == default ]] && echo "default flags (--qps auto: no client-side limit under the server's Priority and Fairness)" || echo "--qps 0")
  say "  operator, $flags:"
  say "    edits: ${R[$tag.edits]} at ${R[$tag.edit_rate]}/s; their own write latency p50 ${R[$tag.write_p50_ms]} ms, p99 ${R[$tag.write_p99_ms]} ms; the watch delivered them after p50 ${R[$tag.watch_p50_ms]} ms, p99 ${R[$tag.watch_p99_ms]} ms"
  say "    edit → operator's patch seen (watch, Go clock): ${R[$tag.latency_count]} answered; p50 ${R[$tag.latency_p50_ms]} ms, p99 ${R[$tag.latency_p99_ms]} ms, max ${R[$tag.latency_max_ms]} ms; p50 $(fmt_ratio "${R[$tag.latency_p50_ms]}" "${R[$tag.write_p50_ms]}") × the edit's own write p50; the last answered ${R[$tag.answered_until_s]} s after the first edit"
  say "    edit → operator's patch committed (audit log, API server clock): ${R[$tag.audit_answered]} of ${R[$tag.audit_edited]}; p50 ${R[$tag.audit_p50]} ms, p99 ${R[$tag.audit_p99]} ms, max ${R[$tag.audit_max]} ms"
  say "    writes: ${R[$tag.writes]} ($(calc "${R[$tag.writes]} / $N" .2f) per edit) and ${R[$tag.events]} (/metrics); Deployment writes ${R[$tag.dep_writes]} to ${R[$tag.deps_written]} Deployments; by request (audit): ${R[$tag.requests]}"
  say "    operator CPU during the edits and their answers: ${R[$tag.cpu]} s"
done
end_run
