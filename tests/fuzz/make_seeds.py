#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/seeds/<target>/) from the tests' own inputs:
the policy catalogues and examples (YAML), the JSON objects the unit tests spell out as raw string
literals, and the kubeconfig shapes of tests/unit/config_test.cpp. Objects the tests build in C++
are added here in the same shapes: a Deployment whose bookkeeping annotations the operator owns,
a Dapr Configuration it took over. The output is checked in; run this again after the tests change
(needs PyYAML: Debian python3-yaml)."""
import base64
import copy
import hashlib
import json
import pathlib
import re
import shutil

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fuzz/seeds"
seeds = {t: {} for t in ("policy_fuzz", "deployment_bookkeeping_fuzz", "dapr_record_fuzz",
                         "kubeconfig_fuzz", "watch_stream_fuzz")}


def add(target, text):
    data = text.encode() if isinstance(text, str) else text
    seeds[target][hashlib.sha1(data).hexdigest()[:16]] = data


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


objects = []  # every Kubernetes object found, for the watch streams
for path in sorted([*ROOT.glob("tests/catalogue/*.yaml"), *ROOT.glob("examples/**/*.yaml")]):
    for doc in yaml.safe_load_all(path.read_text()):
        # The catalogues are lists of {name, why, policy}; the examples are the objects.
        for item in doc if isinstance(doc, list) else [doc]:
            if isinstance(item, dict):
                obj = item.get("policy", item)
                if isinstance(obj, dict):
                    # Every object the API server returns is namespaced and has a uid.
                    md = obj.setdefault("metadata", {})
                    if obj.get("kind") == "TracingPolicy":
                        md.setdefault("namespace", "shop")
                        md.setdefault("uid", "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60")
                        md.setdefault("generation", 1)
                    objects.append(obj)

# Raw string literals of the unit and integration tests that hold a JSON object.
literal = re.compile(r'R"(\w*)\((.*?)\)\1"', re.S)
for path in sorted([*ROOT.glob("tests/unit/*.cpp"), *ROOT.glob("tests/integration/*.cpp")]):
    for m in literal.finditer(path.read_text()):
        try:
            doc = json.loads(m.group(2))
        except ValueError:
            continue
        if isinstance(doc, dict):
            objects.append(doc)

deployments, configurations = [], []
for doc in objects:
    kind = doc.get("kind")
    if kind == "TracingPolicy":
        add("policy_fuzz", compact(doc))
    elif kind == "Deployment":
        deployments.append(doc)
    elif kind == "Configuration":
        configurations.append(doc)

# A Deployment the operator has configured: its bookkeeping annotations, owned by its field
# manager, with an override of a variable kubectl-edit had set.
OPERATOR = "tracing-operator"
BOOKKEEPING = {
    "tracing.rollout.dev/policies": "tracing-system/cluster-default,shop/task-api",
    "tracing.rollout.dev/overridden-env": compact({"api": {"OTEL_TRACES_SAMPLER": {
        "entry": {"name": "OTEL_TRACES_SAMPLER", "value": "always_on"},
        "manager": "kubectl-edit"}}}),
    "tracing.rollout.dev/original-env-order": compact({"api": ["LOG_LEVEL", "OTEL_TRACES_SAMPLER"]}),
}
for d in list(deployments):
    d = copy.deepcopy(d)
    md = d.setdefault("metadata", {})
    md.setdefault("annotations", {}).update(BOOKKEEPING)
    owned = {"f:metadata": {"f:annotations": {f"f:{k}": {} for k in BOOKKEEPING}}}
    entries = md.setdefault("managedFields", [])
    entries.append({"manager": OPERATOR, "operation": "Apply", "apiVersion": "apps/v1",
                    "fieldsType": "FieldsV1", "fieldsV1": owned})
    deployments.append(d)
for d in deployments:
    add("deployment_bookkeeping_fuzz", compact(d))

# A Configuration the operator took over (its previous settings recorded and owned) and one it
# created (its proof of ownership).
for c in list(configurations):
    c = copy.deepcopy(c)
    md = c.setdefault("metadata", {})
    md.setdefault("annotations", {})["tracing.rollout.dev/previous-tracing"] = compact(
        {"tracing": c.get("spec", {}).get("tracing")})
    md.setdefault("managedFields", []).append({
        "manager": OPERATOR, "operation": "Apply", "apiVersion": "dapr.io/v1alpha1",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:annotations": {"f:tracing.rollout.dev/previous-tracing": {}}},
                     "f:spec": {"f:tracing": {"f:samplingRate": {}}}}})
    configurations.append(c)
configurations.append({
    "apiVersion": "dapr.io/v1alpha1", "kind": "Configuration",
    "metadata": {"name": "tracing", "namespace": "shop",
                 "labels": {"app.kubernetes.io/managed-by": OPERATOR},
                 "annotations": {"tracing.rollout.dev/owners": compact({
                     "object": "Configuration shop/tracing",
                     "policies": ["5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60"]})}},
    "spec": {"tracing": {"samplingRate": "0.1", "otel": {
        "endpointAddress": "jaeger-collector.observability.svc:4317", "isSecure": False,
        "protocol": "grpc"}}}})
for c in configurations:
    add("dapr_record_fuzz", compact(c))

# Kubeconfigs in the shapes tests/unit/config_test.cpp loads.
PEM = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n"
b64 = lambda s: base64.b64encode(s.encode()).decode()


def kubeconfig(cluster, user, context_extra=""):
    return ("apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: local\n"
            "  cluster:\n" + cluster + "users:\n- name: admin\n  user:\n" + user +
            "contexts:\n- name: dev\n  context:\n    cluster: local\n    user: admin\n" +
            context_extra)


SERVER = "    server: https://127.0.0.1:6443\n"
add("kubeconfig_fuzz", kubeconfig(SERVER + f"    certificate-authority-data: {b64(PEM)}\n",
                                  f"    client-certificate-data: {b64(PEM)}\n"
                                  f"    client-key-data: {b64(KEY)}\n"))
add("kubeconfig_fuzz", kubeconfig(SERVER, "    token: abc\n", "    namespace: observability\n"))
add("kubeconfig_fuzz", kubeconfig(SERVER + "    insecure-skip-tls-verify: true\n"
                                  "    tls-server-name: kubernetes\n",
                                  "    tokenFile: secrets/token\n"))
add("kubeconfig_fuzz", kubeconfig("    server: http://127.0.0.1:8080/\n", "    {}\n"))
add("kubeconfig_fuzz", kubeconfig(SERVER, "    exec:\n      command: aws\n"))
add("kubeconfig_fuzz", kubeconfig(SERVER + "    proxy-url: http://proxy:3128\n", "    as: bob\n"))

# Watch streams: the objects above as events, a bookmark, an expired watch's ERROR. The first
# byte of a watch_stream_fuzz input chooses how many chunk sizes follow; 0: one chunk.
events = [{"type": t, "object": o} for t, o in zip(
    ["ADDED", "MODIFIED", "DELETED"] * len(objects), objects)]
events.append({"type": "BOOKMARK", "object": {"kind": "Deployment", "metadata": {
    "resourceVersion": "48213", "annotations": {"k8s.io/initial-events-end": "true"}}}})
events.append({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                                           "status": "Failure", "reason": "Expired", "code": 410,
                                           "message": "too old resource version: 1 (42)"}})
for i in range(0, len(events), 4):
    stream = "".join(compact(e) + "\n" for e in events[i:i + 4])
    add("watch_stream_fuzz", b"\x00" + stream.encode())
    add("watch_stream_fuzz", b"\x03\x06\x1e\x01" + stream.replace("\n", "\r\n", 1).encode())

shutil.rmtree(OUT, ignore_errors=True)
for target, files in seeds.items():
    (OUT / target).mkdir(parents=True)
    for name, data in sorted(files.items()):
        (OUT / target / name).write_bytes(data)
    print(f"{target}: {len(files)} seeds")
