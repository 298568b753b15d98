# Shared by the benchmark scripts (sourced). Sets up the control plane, the operator's identity,
# the realistic population, and starts, samples and stops operators.
#
# Two modes:
# - own (default): a fresh control plane in $TRACING_BENCH_CP_DIR (default
#   build/bench-controlplane; never $TRACING_CP_DIR, which may name a control plane in use),
#   purged before and after, WITHOUT kube-controller-manager: no Deployment status updates, no
#   ReplicaSets or Pods add load or watch events, so what is measured is the operator's work.
#   The policies set no rollout.maxConcurrent, so nothing waits for rollouts that never finish.
#   A script that paces rollouts sets BENCH_KCM=1 before sourcing this file: its control plane
#   then runs kube-controller-manager, and its Deployments ask for 0 replicas, so their rollouts
#   complete with no kubelet.
# - shared (TRACING_BENCH_SHARED_CP=1; the CI smoke under scripts/test): the control plane
#   scripts/test started (KUBECONFIG, TRACING_CP_DIR), in fresh namespaces with a fresh root
#   namespace, all deleted afterwards. It has kube-controller-manager, so Deployments roll (their
#   status moves; they ask for 0 replicas, so no Pods pile up); the root policy selects only this
#   run's namespaces.
#
# Everything is labelled tracing-bench=$RUN; the root policy "bench" selects those namespaces.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$ROOT/tests/benchmarks
NAME=$(basename "$0" .sh)
BL=$BENCH/benchlib.py

log() { echo "$NAME: $*" >&2; }
die() { log "$*"; exit 1; }
# Prints to stdout (the report) and nothing else does.
say() { echo "$*"; }

OPERATOR=${TRACING_OPERATOR_BIN:-}
if [[ -z $OPERATOR ]]; then OPERATOR=$("$ROOT/scripts/build" | tail -n 1); fi
REF=${TRACING_BENCH_REFERENCE:-}
if [[ -z $REF ]]; then REF=$("$BENCH/reference/build" | tail -n 1); fi

SHARED=${TRACING_BENCH_SHARED_CP:-0}
KCM=${BENCH_KCM:-0}  # whether kube-controller-manager rolls the Deployments
RUN=$NAME-$$
LOGS=${BUILD_DIR:-$ROOT/build}/bench-logs/$NAME
rm -rf "$LOGS"
mkdir -p "$LOGS"
if [[ $SHARED == 1 ]]; then
  [[ -n ${KUBECONFIG:-} && -n ${TRACING_CP_DIR:-} ]] ||
    die "TRACING_BENCH_SHARED_CP=1 needs the KUBECONFIG and TRACING_CP_DIR of a running control plane (scripts/test exports them)"
  PREFIX=b$$-
  ROOT_NS=${PREFIX}root
  KCM=1
else
  export TRACING_CP_DIR=${TRACING_BENCH_CP_DIR:-$ROOT/build/bench-controlplane}
  PREFIX=bench-
  ROOT_NS=tracing-system
fi
REPLICAS=$([[ $KCM == 1 ]] && echo 0 || echo 2)
AUDIT=$TRACING_CP_DIR/audit.log
OP_KUBECONFIG=$TRACING_CP_DIR/pki/operator.kubeconfig
NAMESPACES=()  # the run's namespaces, for cleanup

k() { "$TRACING_CP_DIR/bin/kubectl" --kubeconfig "$KUBECONFIG" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- operators ------------------------------------------------------------------------------
# op_start TAG [FLAGS…]: starts the operator (as the RBAC-limited identity tracing-operator);
# sets OP_PID and OP_URL (its /metrics).
OP_PID=""
OP_URL=""
op_start() {
  local tag=$1; shift
  local mport hport
  mport=$(free_port)
  hport=$(free_port)
  "$OPERATOR" --kubeconfig "$OP_KUBECONFIG" --root-namespace "$ROOT_NS" --log-level warn \
    --metrics-bind-address "127.0.0.1:$mport" --health-probe-bind-address "127.0.0.1:$hport" \
    "$@" 2>>"$LOGS/operator-$tag.log" &
  OP_PID=$!
  OP_URL=http://127.0.0.1:$mport/metrics
}

op_stop() {
  [[ -n $OP_PID ]] || return 0
  kill -TERM "$OP_PID" 2>/dev/null || true
  wait "$OP_PID" 2>/dev/null || true
  OP_PID=""
}

# op_wait_idle WANT [TIMEOUT] [waiting-ok]: until the operator holds at least WANT Deployments and
# has nothing queued, waiting or in flight, three times in a row 0.5 s apart (its own writes come
# back as watch events). With waiting-ok, keys waiting for a deadline (a debug bump's expiry) do
# not count.
# Where kube-controller-manager runs (shared mode, BENCH_KCM=1) it rolls the Deployments the
# operator changed, and the policy's status follows their rollouts: idle also means it has caught
# up with them.
op_wait_idle() {
  local want=$1 limit=${2:-1800} waiting=${3:-} t0=$SECONDS streak=0
  while ((streak < 3)); do
    if "$BL" idle "$OP_URL" "$want" $waiting && rollouts_complete; then
      streak=$((streak + 1))
    else
      streak=0
    fi
    ((SECONDS - t0 < limit)) || die "operator not idle after $limit s (see $LOGS)"
    kill -0 "$OP_PID" 2>/dev/null || die "operator exited (see $LOGS)"
    sleep 0.5
  done
}

# Whether kube-controller-manager has caught up with every Deployment of the run (always true
# without it: nothing rolls them). The run's own Deployments ask for 0 replicas, so catching up
# completes their rollout; the demo's, which ask for Pods no kubelet runs, stay rolling.
rollouts_complete() {
  [[ $KCM == 1 ]] || return 0
  k get deploy -A -l "tracing-bench=$RUN" -o jsonpath='{range .items[*]}{.metadata.generation} {.status.observedGeneration}{"\n"}{end}' |
    awk '$1 != $2 {bad = 1} END {exit bad}'
}

op_metrics() { "$BL" metrics "$OP_URL" >"$1"; }
# op_wait_trimmed: after op_wait_idle, until the operator has sent its queued Events (they go out
# on a budget of their own, 10 a second: ~100 s for a full queue of 1,000) and returned to the
# system the free heap its work left (tracing_operator_heap_trim_pending 0: it trims 2 s after the
# work, Event writes included, stops; operator/runtime/heap_trim.h). Steady-state memory is read
# after it.
op_wait_trimmed() {
  local t0=$SECONDS snap="$LOGS/trim.metrics"
  until op_metrics "$snap" && [[ $(metric "$snap" tracing_operator_events_pending) == 0 ]] &&
    [[ $(metric "$snap" tracing_operator_heap_trim_pending) == 0 ]] &&
    [[ $(metric "$snap" tracing_operator_heap_trims_total) != 0 ]]; do
    ((SECONDS - t0 < 300)) || die "operator's Events not sent or heap not trimmed 300 s after idle (see $LOGS)"
    kill -0 "$OP_PID" 2>/dev/null || die "operator exited (see $LOGS)"
    sleep 0.5
  done
}
op_cpu() { "$BL" cpu "$OP_PID"; }
# metric FILE SERIES: one value of a metrics snapshot (0 when absent).
metric() { awk -v s="$2" '$1 == s {v = $2} END {print v + 0}' "$1"; }
writes_between() {  # writes_between BEFORE AFTER: the operator's API writes between two snapshots
  echo $(($(metric "$2" 'tracing_operator_api_requests_total{kind="write"}' | cut -d. -f1) - \
          $(metric "$1" 'tracing_operator_api_requests_total{kind="write"}' | cut -d. -f1)))
}
# events_between BEFORE AFTER: the operator's Events between two snapshots. They are written apart
# from its other API requests (not in api_requests_total), on a budget of their own, so some may
# still be queued when the operator is otherwise idle.
events_between() {
  local sent=0 w emitted
  for w in create series; do
    sent=$((sent + $(metric "$2" "tracing_operator_events_sent_total{write=\"$w\"}" | cut -d. -f1) - \
                   $(metric "$1" "tracing_operator_events_sent_total{write=\"$w\"}" | cut -d. -f1)))
  done
  emitted=$(($(metric "$2" tracing_operator_events_emitted_total | cut -d. -f1) - \
             $(metric "$1" tracing_operator_events_emitted_total | cut -d. -f1)))
  echo "$sent Events written of $emitted emitted, $(metric "$2" tracing_operator_events_pending) still queued"
}
audit_offset() { stat -c %s "$AUDIT"; }
# audit_since OFFSET: the audit summary (JSON) of every mutating request since OFFSET.
audit_since() { "$BL" audit "$AUDIT" "$1"; }
# audit_field JSON ACTOR_PREFIX FIELD: e.g. audit_field "$a" "tracing-operator" deployment_writes
audit_field() {
  python3 -c '
import json, sys
a = json.loads(sys.argv[1])["actors"]
v = [x[sys.argv[3]] for k, x in a.items() if k.startswith(sys.argv[2])]
print(sum(v) if v and isinstance(v[0], int) else (v[0] if v else 0))' "$1" "$2" "$3"
}
# audit_requests JSON ACTOR_PREFIX: "verb resource count, …"
audit_requests() {
  python3 -c '
import json, sys
a = json.loads(sys.argv[1])["actors"]
out = {}
for k, x in a.items():
    if k.startswith(sys.argv[2]):
        for r, n in x["by_request"].items(): out[r] = out.get(r, 0) + n
print(", ".join(f"{r} {n}" for r, n in sorted(out.items())) or "none")' "$1" "$2"
}

# --- the control plane and the population ----------------------------------------------------
cleanup() {
  local status=$?
  [[ -z $AWAIT_PID ]] || kill "$AWAIT_PID" 2>/dev/null || true
  op_stop
  if [[ $SHARED == 1 ]]; then
    # The operator is gone: drop the policies' finalizers, then delete the run's namespaces.
    for ns in "${NAMESPACES[@]}"; do
      for tp in $(k get tp -n "$ns" -o name 2>/dev/null); do
        k patch "$tp" -n "$ns" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
      done
    done
    # What an operator reads goes first and is waited for; the namespaces are left to the
    # namespace controller, which starts on a deleted namespace only 5 s later.
    for ns in "${NAMESPACES[@]}"; do
      k delete tracingpolicies,deployments,statefulsets,daemonsets,configmaps,services --all \
        -n "$ns" --wait=true --timeout=90s >/dev/null 2>&1 ||
        log "some objects of $ns are still there"
    done
    if ((${#NAMESPACES[@]})); then
      k delete namespace "${NAMESPACES[@]}" --wait=false >/dev/null 2>&1 || true
    fi
  else
    "$ROOT/scripts/controlplane" stop --purge
  fi
  exit $status
}

cp_up() {
  if [[ $SHARED == 1 ]]; then
    log "using the running control plane in $TRACING_CP_DIR (namespaces ${PREFIX}*)"
  else
    "$ROOT/scripts/controlplane" stop --purge
    KUBECONFIG=$("$ROOT/scripts/controlplane" start $([[ $KCM == 1 ]] && echo --controller-manager) | tail -n 1)
    export KUBECONFIG
  fi
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  # On a shared control plane the tests' fixture owns the CRD and RBAC (field manager
  # tracing-tests): applying them again as another manager would conflict, so only install what
  # is missing.
  k get crd tracingpolicies.tracing.rollout.dev >/dev/null 2>&1 ||
    k apply --server-side -f "$ROOT/crds/" >/dev/null
  k wait --for condition=Established crd/tracingpolicies.tracing.rollout.dev >/dev/null
  local ns
  for ns in tracing-system "$ROOT_NS"; do  # deploy/rbac.yaml's namespace, and the root
    k create namespace "$ns" --dry-run=client -o yaml | k apply --server-side -f - >/dev/null
  done
  [[ $SHARED == 1 ]] && NAMESPACES+=("$ROOT_NS")
  k get clusterrole tracing-operator >/dev/null 2>&1 ||
    k apply --server-side -f "$ROOT/deploy/rbac.yaml" >/dev/null
  # The operator identity (pki/operator.kubeconfig, user tracing-operator) gets what the chart
  # grants its ServiceAccount, as the integration tests do.
  k create clusterrolebinding tracing-operator-test-user --clusterrole tracing-operator \
    --user tracing-operator --dry-run=client -o yaml | k apply --server-side -f - >/dev/null
}

# populate COUNT NAMESPACES [START]: the run's namespaces and realistic Deployments (created
# with the parallel Go driver; see reference/main.go).
populate() {
  local count=$1 nss=$2 start=${3:-0}
  local i
  local ns
  for ((i = 0; i < nss; i++)); do
    ns=$(printf '%s%02d' "$PREFIX" "$i")
    [[ " ${NAMESPACES[*]} " == *" $ns "* ]] || NAMESPACES+=("$ns")
  done
  "$REF" create --prefix "$PREFIX" --namespaces "$nss" --count "$count" --start "$start" \
    --replicas "$REPLICAS" --label "tracing-bench=$RUN"
}

# converged_population COUNT NAMESPACES: the control plane, COUNT realistic Deployments over
# NAMESPACES namespaces, the root policy at ratio 0.1, and an operator run (--qps 0) that brought
# every one of them to it (converge).
converged_population() {
  cp_up
  log "creating $1 realistic Deployments in $2 namespaces…"
  populate "$1" "$2" >&2
  root_policy 0.1
  log "converging them (an operator with --qps 0)…"
  converge 0.1 "$1"
}

# end_run: the run's verdict: each entry of the array `failures` logged, exit status 1 when there
# is one.
end_run() {
  local m
  for m in "${failures[@]}"; do log "FAIL: $m"; done
  ((${#failures[@]} == 0)) || exit 1
}

# root_policy RATIO: the root policy "bench" in the root namespace, selecting the run's
# namespaces; OTLP to a fixed endpoint (no managed Jaeger), restart mode.
root_policy() {
  k apply --server-side --force-conflicts -f - >/dev/null <<EOF
apiVersion: tracing.rollout.dev/v1alpha1
kind: TracingPolicy
metadata: {name: bench, namespace: $ROOT_NS}
spec:
  namespaceSelector: {matchLabels: {tracing-bench: $RUN}}
  exporter: {endpoint: "http://jaeger-collector.observability.svc:4317", protocol: grpc, insecure: true}
  sampling: {sampler: parentbased_traceidratio, ratio: "$1"}
  propagators: [tracecontext, baggage]
  resourceAttributes: {deployment.environment: bench}
EOF
}

# await RATIO COUNT FILE: starts the watcher that reports when COUNT of the run's Deployments
# carry OTEL_TRACES_SAMPLER_ARG=RATIO in every container; returns once it has synced.
AWAIT_PID=""
await() {
  "$REF" await --selector "tracing-bench=$RUN" --env "OTEL_TRACES_SAMPLER_ARG=$1" --count "$2" >"$3" &
  AWAIT_PID=$!
  until grep -q synced "$3" 2>/dev/null; do
    kill -0 "$AWAIT_PID" 2>/dev/null || die "the watcher failed"
    sleep 0.1
  done
}
# await_done FILE: waits for it; DONE_AT = the unix time they all carried it.
await_done() {
  wait "$AWAIT_PID" || die "the watcher failed or timed out"
  DONE_AT=$(awk '/^done/ {print $2}' "$1")
}

# converge RATIO COUNT: an operator with --qps 0 brings COUNT Deployments to RATIO, then stops.
# CONVERGE_S: seconds until they all carried it; CONVERGE_WRITES: its writes; CONVERGE_CPU.
converge() {
  await "$1" "$2" "$LOGS/converge.await"
  local t0
  t0=$(date +%s.%N)
  op_start converge --qps 0
  await_done "$LOGS/converge.await"
  CONVERGE_S=$(calc "$DONE_AT - $t0" .1f)
  op_wait_idle "$2"
  op_metrics "$LOGS/converge.metrics"
  CONVERGE_WRITES=$(writes_between /dev/null "$LOGS/converge.metrics")
  CONVERGE_CPU=$(op_cpu)
  op_stop
}

# fmt_ratio A B: A/B with two decimals ("n/a" when B is 0).
fmt_ratio() { python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print(f"{a/b:.2f}" if b else "n/a")' "$1" "$2"; }
calc() { python3 -c "print(f'{$1:$2}')"; }
