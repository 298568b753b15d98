#!/usr/bin/env bash
# A debug bump's expiry (SPEC §5, §6): a root policy governs N realistic Deployments, base ratio
# 0.1. For each mode asked for:
#   remote  sampling.mode remote with a managed Jaeger in the root namespace: the ratios live in
#           its strategies ConfigMap (jaeger-sampling-strategies), one service per Deployment;
#   env     restart mode: the ratio lives in every Deployment's OTEL_TRACES_SAMPLER_ARG;
#   paced   env, with rollout.maxConcurrent BENCH_MAX_CONCURRENT (default 50): reverts wait for
#           rollouts, so kube-controller-manager runs (BENCH_KCM=1, see lib.sh) and the
#           Deployments ask for 0 replicas; a run of its own (it cannot share the others'
#           control plane).
# the policy is applied and converged (an operator with --qps 0), then an operator with its
# default flags is started on the converged cluster and
#   1. the policy gets spec.debug {ratio: "1", until: an hour ahead}: time until the bump is
#      served everywhere (the strategies file, or every Deployment) and its writes;
#   2. until is moved to BENCH_LEAD seconds ahead (default 10; a new bump at the same ratio, which
#      changes no Deployment) — the deadline; the operator must have taken it before it passes;
#   3. the bump expires: time from the deadline until the base ratio is served everywhere again
#      (remote: the strategies ConfigMap, watched; env: the last Deployment reverted, watched),
#      and the operator's writes from just before the deadline until it is idle, counted by its
#      /metrics and the audit log.
#
#   tests/benchmarks/debug_expiry.sh [N] [MODE…]   (defaults: 1000, remote env;
#                                                    BENCH_NAMESPACES, default 20)
#
# Exit status 1 when remote mode writes a Deployment during the bump or its expiry, or env mode
# does not write every Deployment exactly once at the expiry (paced too);
# no time is asserted.
set -euo pipefail
N=${1:-1000}
shift || true
MODES=("$@")
((${#MODES[@]})) || MODES=(remote env)
for m in "${MODES[@]}"; do
  [[ $m == remote || $m == env || $m == paced ]] || { echo "debug_expiry: unknown mode $m (remote, env, paced)" >&2; exit 2; }
  [[ $m == paced ]] && export BENCH_KCM=1
done
LEAD=${BENCH_LEAD:-10}
MAX_CONCURRENT=${BENCH_MAX_CONCURRENT:-50}
NSS=${BENCH_NAMESPACES:-20}
((NSS <= N)) || NSS=$N
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ $SHARED != 1 && $KCM == 1 && " ${MODES[*]} " != " paced " ]]; then
  die "mode paced runs kube-controller-manager: run it alone (… $N paced), the other modes without it"
fi
STRATEGIES=jaeger-sampling-strategies

cp_up
log "creating $N realistic Deployments in $NSS namespaces…"
populate "$N" "$NSS" >&2
failures=()
declare -A R

# policy MODE: the root policy "bench" for MODE, base ratio 0.1, no debug.
policy() {
  local sampling="sampler: parentbased_traceidratio, ratio: \"0.1\""
  local extra="exporter: {endpoint: \"http://jaeger-collector.observability.svc:4317\", protocol: grpc, insecure: true}"
  case $1 in
    remote)
      sampling+=", mode: remote"
      extra="jaeger: {mode: managed, namespace: $ROOT_NS, name: jaeger}"
      ;;
    paced) extra+=$'\n'"  rollout: {maxConcurrent: $MAX_CONCURRENT}" ;;
  esac
  k patch tp bench -n "$ROOT_NS" --type merge -p '{"spec":{"debug":null}}' >/dev/null 2>&1 || true
  k apply --server-side --force-conflicts -f - >/dev/null <<EOF
apiVersion: tracing.rollout.dev/v1alpha1
kind: TracingPolicy
metadata: {name: bench, namespace: $ROOT_NS}
spec:
  namespaceSelector: {matchLabels: {tracing-bench: $RUN}}
  sampling: {$sampling}
  propagators: [tracecontext, baggage]
  $extra
EOF
}

# served MODE RATIO FILE: starts the watcher that reports when RATIO is served everywhere (remote:
# every service of the strategies file; env: every Deployment's OTEL_TRACES_SAMPLER_ARG); returns
# once it has synced. await_done FILE waits for it.
served() {
  if [[ $1 == remote ]]; then
    "$REF" await-strategies --namespace "$ROOT_NS" --name "$STRATEGIES" --param "$2" --services "$N" >"$3" &
    AWAIT_PID=$!
    until grep -q synced "$3" 2>/dev/null; do
      kill -0 "$AWAIT_PID" 2>/dev/null || die "the watcher failed"
      sleep 0.1
    done
  else
    await "$2" "$N" "$3"
  fi
}

# ahead SECONDS: the unix time SECONDS from now, to the microsecond. rfc3339 UNIX_SECONDS: that
# instant as spec.debug.until takes it (UTC).
ahead() { calc "$(date +%s.%N) + $1" .6f; }
rfc3339() {
  python3 -c 'import datetime, sys; print(datetime.datetime.fromtimestamp(float(sys.argv[1]), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))' "$1"
}

# deployment_writes FROM: the operator's Deployment writes (audit) since audit offset FROM.
deployment_writes() { audit_field "$(audit_since "$1")" "tracing-operator" deployment_writes; }

mode() {
  local m=$1 f=$LOGS/$1
  log "$m: applying the policy, converging (an operator with --qps 0)…"
  policy "$m"
  if [[ $m == remote ]]; then
    # Converged: every workload samples remotely and the strategies file serves the base ratio.
    "$REF" await --selector "tracing-bench=$RUN" --env OTEL_TRACES_SAMPLER=parentbased_jaeger_remote \
      --count "$N" >"$f.converge" &
    AWAIT_PID=$!
    op_start "$m-converge" --qps 0
    await_done "$f.converge"
    op_wait_idle "$N"
    served remote 0.1 "$f.converge-strategies"
    await_done "$f.converge-strategies"
    op_stop
  else
    converge 0.1 "$N"
  fi

  log "$m: operator (default flags) on the converged cluster; bump to 1 for an hour…"
  op_start "$m"
  op_wait_idle "$N"
  op_metrics "$f.m0"
  local off0 t0
  off0=$(audit_offset)
  served "$m" 1 "$f.bump"
  t0=$(date +%s.%N)
  k patch tp bench -n "$ROOT_NS" --type merge \
    -p "{\"spec\":{\"debug\":{\"ratio\":\"1\",\"until\":\"$(rfc3339 "$(ahead 3600)")\",\"reason\":\"benchmark\"}}}" >/dev/null
  await_done "$f.bump"
  R[$m.bump_s]=$(calc "$DONE_AT - $t0" .2f)
  op_wait_idle "$N" 1800 waiting-ok
  op_metrics "$f.m1"
  R[$m.bump_writes]=$(writes_between "$f.m0" "$f.m1")
  R[$m.bump_events]=$(events_between "$f.m0" "$f.m1")
  R[$m.bump_dep_writes]=$(deployment_writes "$off0")

  log "$m: the deadline moved to $LEAD s ahead…"
  local off1 deadline until
  off1=$(audit_offset)
  deadline=$(ahead "$LEAD")
  until=$(rfc3339 "$deadline")
  k patch tp bench -n "$ROOT_NS" --type merge -p "{\"spec\":{\"debug\":{\"until\":\"$until\"}}}" >/dev/null
  # The operator has taken the new deadline once its status has observed that generation (the
  # debug record is written with it). Waiting for idle instead would take seconds of polling.
  local gen
  gen=$(k get tp bench -n "$ROOT_NS" -o jsonpath='{.metadata.generation}')
  k wait tp/bench -n "$ROOT_NS" --for=jsonpath='{.status.observedGeneration}'="$gen" --timeout=10m >/dev/null
  op_metrics "$f.m2"
  local off2
  off2=$(audit_offset)
  R[$m.move_writes]=$(writes_between "$f.m1" "$f.m2")
  R[$m.move_dep_writes]=$(deployment_writes "$off1")
  served "$m" 0.1 "$f.expiry"
  local settled
  settled=$(date +%s.%N)
  python3 -c 'import sys; sys.exit(float(sys.argv[1]) >= float(sys.argv[2]))' "$settled" "$deadline" ||
    die "$m: the operator had not taken the moved deadline when it passed; raise BENCH_LEAD (now $LEAD s)"
  R[$m.margin_s]=$(calc "$deadline - $settled" .2f)
  local cpu0
  cpu0=$(op_cpu)
  log "$m: waiting for the expiry at $until…"
  await_done "$f.expiry"
  R[$m.expiry_s]=$(calc "$DONE_AT - $deadline" .3f)
  op_wait_idle "$N"
  R[$m.idle_s]=$(calc "$(date +%s.%N) - $deadline" .2f)
  R[$m.cpu]=$(calc "$(op_cpu) - $cpu0" .2f)
  op_metrics "$f.m3"
  local a
  a=$(audit_since "$off2")
  R[$m.writes]=$(writes_between "$f.m2" "$f.m3")
  R[$m.events]=$(events_between "$f.m2" "$f.m3")
  R[$m.dep_writes]=$(audit_field "$a" "tracing-operator" deployment_writes)
  R[$m.deps_written]=$(audit_field "$a" "tracing-operator" deployments_written)
  R[$m.max_per_dep]=$(audit_field "$a" "tracing-operator" max_writes_per_deployment)
  R[$m.first_dep]=$(audit_field "$a" "tracing-operator" first_deployment_write)
  R[$m.last_dep]=$(audit_field "$a" "tracing-operator" last_deployment_write)
  R[$m.requests]=$(audit_requests "$a" "tracing-operator")
  R[$m.status]=$(k get tp bench -n "$ROOT_NS" -o jsonpath='{.status.effective.ratio} ({.status.effective.source}); DebugActive={.status.conditions[?(@.type=="DebugActive")].status}/{.status.conditions[?(@.type=="DebugActive")].reason}')
  op_stop

  if [[ $m == remote ]]; then
    ((R[$m.bump_dep_writes] == 0 && R[$m.move_dep_writes] == 0 && R[$m.dep_writes] == 0)) ||
      failures+=("remote: the operator wrote Deployments: ${R[$m.bump_dep_writes]} for the bump, ${R[$m.move_dep_writes]} for the moved deadline, ${R[$m.dep_writes]} at the expiry (want 0)")
  elif [[ $m == paced ]]; then
    # Paced as well: each Deployment exactly once (a wake-up before the write's own watch event
    # used to write some twice, ~0.1 s apart; the reconciler now waits for that event).
    [[ ${R[$m.dep_writes]} == "$N" && ${R[$m.deps_written]} == "$N" ]] ||
      failures+=("$m: the expiry wrote ${R[$m.dep_writes]} times to ${R[$m.deps_written]} of $N Deployments (want each exactly once)")
  else
    [[ ${R[$m.dep_writes]} == "$N" && ${R[$m.deps_written]} == "$N" ]] ||
      failures+=("$m: the expiry wrote ${R[$m.dep_writes]} times to ${R[$m.deps_written]} of $N Deployments (want each exactly once)")
    [[ ${R[$m.move_dep_writes]} == 0 ]] ||
      failures+=("$m: moving the deadline (same ratio) wrote ${R[$m.move_dep_writes]} Deployments (want 0)")
  fi
}

for m in "${MODES[@]}"; do mode "$m"; done

say "debug expiry: $N Deployments in $NSS namespaces, root policy at 0.1, bumped to 1 ($(date -u +%F), $(nproc) cores)"
for m in "${MODES[@]}"; do
  case $m in
    remote) say "  remote sampling (strategies ConfigMap $ROOT_NS/$STRATEGIES, $N services), operator with default flags:" ;;
    env) say "  restart mode (the ratio in every Deployment's env), operator with default flags:" ;;
    paced) say "  restart mode, rollout.maxConcurrent $MAX_CONCURRENT (kube-controller-manager rolls them), operator with default flags:" ;;
  esac
  say "    bump served everywhere after ${R[$m.bump_s]} s; ${R[$m.bump_writes]} writes, ${R[$m.bump_dep_writes]} to Deployments; ${R[$m.bump_events]}"
  say "    deadline moved to $LEAD s ahead: ${R[$m.move_writes]} writes, ${R[$m.move_dep_writes]} to Deployments; taken ${R[$m.margin_s]} s before it"
  if [[ $m == remote ]]; then
    say "    deadline → strategies file serves the base ratio: ${R[$m.expiry_s]} s; idle after ${R[$m.idle_s]} s"
  else
    say "    deadline → last Deployment reverted: ${R[$m.expiry_s]} s ($(calc "$N / ${R[$m.expiry_s]}" .1f) Deployments/s; first revert committed ${R[$m.first_dep]}, last ${R[$m.last_dep]}); idle after ${R[$m.idle_s]} s"
  fi
  say "    writes from the deadline until idle: ${R[$m.writes]} and ${R[$m.events]} (/metrics); Deployment writes ${R[$m.dep_writes]} to ${R[$m.deps_written]} Deployments (at most ${R[$m.max_per_dep]} each); by request (audit): ${R[$m.requests]}"
  say "    operator CPU from just before the deadline until idle: ${R[$m.cpu]} s; the policy after: ratio ${R[$m.status]}"
done
end_run
