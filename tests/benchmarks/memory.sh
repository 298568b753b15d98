#!/usr/bin/env bash
# The operator's resident memory with N Deployments (default 1000), reported against a baseline
# measured in the same run: the same operator with the demo's handful of workloads.
#   tests/benchmarks/memory.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${1:-1000}
export TRACING_CP_DIR=${TRACING_CP_DIR:-$ROOT/build/bench-controlplane}
operator=$("$ROOT/scripts/build" | tail -n 1)
"$ROOT/scripts/controlplane" stop --purge
trap '"$ROOT/scripts/controlplane" stop --purge' EXIT
KUBECONFIG=$("$ROOT/scripts/controlplane" start | tail -n 1)
export KUBECONFIG
k() { "$ROOT/scripts/controlplane" kubectl "$@"; }
k apply --server-side -f "$ROOT/crds/" >/dev/null
k wait --for condition=Established crd/tracingpolicies.tracing.rollout.dev >/dev/null
k apply --server-side -f "$ROOT/examples/demo/workloads.yaml" >/dev/null
k apply --server-side -f "$ROOT/deploy/rbac.yaml" >/dev/null
k apply --server-side -f "$ROOT/examples/policies/cluster-default.yaml" >/dev/null

metric() { curl -sf http://127.0.0.1:18090/metrics | awk -v s="$1" '$1 == s {print $2}'; }

# Starts the operator, waits until it has reconciled every Deployment once and is idle, prints
# its resident memory in bytes, stops it.
measure() {
  local want=$1
  "$operator" --kubeconfig "$KUBECONFIG" --root-namespace tracing-system --log-level warn \
    --metrics-bind-address 127.0.0.1:18090 --health-probe-bind-address 127.0.0.1:18091 \
    2>>"$TRACING_CP_DIR/bench-operator.log" &
  local pid=$!
  local t0=$SECONDS
  until [[ $(metric 'tracing_operator_informer_objects{resource="deployments"}') == "$want" &&
           $(metric 'tracing_operator_workqueue_depth{queue="workload"}') == 0 &&
           $(metric 'tracing_operator_reconciles_in_flight') == 0 &&
           $(metric 'tracing_operator_reconciles_total{controller="workload"}') -ge $want ]]; do
    ((SECONDS - t0 < 900)) || { echo "operator did not converge" >&2; kill "$pid"; exit 1; }
    sleep 0.5
  done
  local rss; rss=$(metric process_resident_memory_bytes)
  echo "  converged in $((SECONDS - t0)) s, writes: $(metric 'tracing_operator_api_requests_total{kind="write"}')" >&2
  kill -TERM "$pid"; wait "$pid" || true
  echo "$rss"
}

base_count=$(k get deploy -A --no-headers | wc -l)
echo "baseline: $base_count Deployments" >&2
base=$(measure "$base_count")

echo "creating $N Deployments in namespace bench…" >&2
k create namespace bench >/dev/null
python3 - "$N" >"$TRACING_CP_DIR/bench-deployments.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: svc-{i:05d}, namespace: bench, labels: {{app: svc-{i:05d}, team: t{i % 20}}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: svc-{i:05d}}}}}
  template:
    metadata: {{labels: {{app: svc-{i:05d}}}}}
    spec:
      containers:
      - name: app
        image: registry.example/svc:1
        env: [{{name: PORT, value: "8080"}}, {{name: LOG_LEVEL, value: info}}]
      - name: sidecar
        image: registry.example/proxy:1
""")
PY
k apply --server-side -f "$TRACING_CP_DIR/bench-deployments.yaml" >/dev/null
total=$((base_count + N))
echo "with $total Deployments" >&2
big=$(measure "$total")

python3 - "$base" "$big" "$base_count" "$total" <<'PY'
import sys
base, big, n0, n1 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"resident memory: {base/2**20:.1f} MiB with {n0} Deployments (baseline), "
      f"{big/2**20:.1f} MiB with {n1}: ratio {big/base:.2f}, "
      f"{(big-base)/(n1-n0)/1024:.1f} KiB per additional Deployment")
PY
