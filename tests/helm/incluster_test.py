"""The operator as the chart's Pod would run it, against the local kube-apiserver (scripts/test
starts it). There is no kubelet, so the test plays the kubelet's part: it installs the chart, asks
the TokenRequest API for a token of the chart's ServiceAccount, lays out what a Pod gets
(KUBERNETES_SERVICE_HOST/PORT and a directory with token, ca.crt, namespace) and runs
build/bin/tracing-operator with the chart's own arguments — but no --kubeconfig, no $KUBECONFIG,
no --root-namespace and no --leader-election-namespace, so both namespaces must come from the
in-cluster identity.

- InClusterIdentityAndUninstall: with exactly the chart's RBAC, env injection, a debug bump,
  revert on delete, managed Jaeger and Dapr work; `kubectl auth can-i` as the ServiceAccount; then
  the README's uninstall: delete the policies (every workload back as it was before the first
  policy), SIGTERM (exit 0, Lease released), `helm uninstall` (nothing of the operator left), and
  the namespaces go without hanging in Terminating.
- OperatorGoneEscapeHatch: the operator SIGKILLed leaves policies whose deletion hangs on the
  finalizer; bringing the operator back finishes it; with the operator gone for good (uninstalled)
  the README's escape hatch — run verbatim from the README — releases the policies and a stuck
  namespace, and deleting the CRD then completes.

The directory of the token is passed as TRACING_SERVICE_ACCOUNT_DIR (test-only; the operator
reads it instead of /var/run/secrets/kubernetes.io/serviceaccount).

Registered RUN_SERIAL: the operator watches the whole cluster, and the escape hatch deletes the
TracingPolicy CRD (restored at the end)."""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import yaml

from helmtest import BUILD_DIR, CHART, ROOT, cluster_env, helm, main, run

CRD = "tracingpolicies.tracing.rollout.dev"
CRD_FILE = ROOT / "crds" / "tracing.rollout.dev_tracingpolicies.yaml"
DAPR_CRD = "configurations.dapr.io"
DAPR_CRD_FILE = ROOT.parent / "shared" / "testdata" / "crds" / "dapr.io_configurations.yaml"
FINALIZER = "tracing.rollout.dev/revert"  # controllers/naming.h kFinalizer
LEASE = "tracing-operator"  # operator/runtime/leader_election.h
OPERATOR = BUILD_DIR / "bin" / "tracing-operator"
LOG_DIR = BUILD_DIR / "test-logs"
# Objects the operator creates, with its proof of creation (SPEC §8).
MANAGED = "app.kubernetes.io/managed-by=tracing-operator"
JAEGER_OBJECTS = {"configmap/jaeger-config", "configmap/jaeger-sampling-strategies",
                  "deployment.apps/jaeger", "service/jaeger-collector", "service/jaeger-query",
                  "service/jaeger-sampling"}
# Flags of the chart's Deployment the test replaces: the namespaces must default to the
# in-cluster one; the endpoints bind free loopback ports.
REPLACED_FLAGS = ("--root-namespace", "--leader-election-namespace", "--metrics-bind-address",
                  "--health-probe-bind-address")


def eventually(fn, timeout=30.0, interval=0.2):
    """fn()'s first truthy value, or its last value once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_escape_hatch():
    """The shell block of the README's Uninstall subsection that removes the finalizers."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Uninstall", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    hatch = [b for b in blocks if '"finalizers":null' in b]
    if len(hatch) != 1:
        raise AssertionError("README's Uninstall subsection should hold one sh block that "
                             f"removes the finalizers; found {len(hatch)}")
    return hatch[0]


class Pod:
    """What the kubelet gives the operator's container: the ServiceAccount's token, the cluster's
    CA and the namespace in a directory, and the API server's address in the environment."""

    def __init__(self, cp_dir, kubeconfig, token, namespace):
        config = yaml.safe_load(Path(kubeconfig).read_text())
        server = urlparse(config["clusters"][0]["cluster"]["server"])
        self.host, self.port = server.hostname, server.port
        self.dir = Path(tempfile.mkdtemp(prefix="tracing-incluster-"))
        self.sa_dir = self.dir / "serviceaccount"
        self.sa_dir.mkdir()
        (self.sa_dir / "token").write_text(token)
        shutil.copy(Path(cp_dir) / "pki" / "ca.crt", self.sa_dir / "ca.crt")
        (self.sa_dir / "namespace").write_text(namespace)
        self.home = self.dir / "home"  # no ~/.kube/config to fall back on
        self.home.mkdir()

    def env(self):
        """A Pod's environment: nothing of the test's (no KUBECONFIG) but PATH."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
                "KUBERNETES_SERVICE_HOST": self.host, "KUBERNETES_SERVICE_PORT": str(self.port),
                "TRACING_SERVICE_ACCOUNT_DIR": str(self.sa_dir)}

    def kubectl_args(self):
        """kubectl flags that authenticate as the Pod does: its token, its CA."""
        return [f"--server=https://{self.host}:{self.port}",
                f"--certificate-authority={self.sa_dir / 'ca.crt'}",
                f"--token={(self.sa_dir / 'token').read_text()}"]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Operator:
    """build/bin/tracing-operator in a Pod's clothes, JSON logs to a file."""

    def __init__(self, pod, chart_args, log_path):
        self.pod = pod
        self.metrics_port, self.health_port = free_port(), free_port()
        self.args = [a for a in chart_args if not a.startswith(REPLACED_FLAGS)] + [
            f"--metrics-bind-address=127.0.0.1:{self.metrics_port}",
            f"--health-probe-bind-address=127.0.0.1:{self.health_port}",
        ]
        self.log_path = log_path
        self.proc = None

    def start(self):
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen([str(OPERATOR), *self.args], stdout=log,
                                         stderr=subprocess.STDOUT, env=self.pod.env())
        ready = eventually(lambda: self.proc.poll() is not None
                           or self.get(self.health_port, "/readyz") == "ok", timeout=60)
        if self.proc.poll() is not None or not ready:
            raise AssertionError(
                f"the operator did not become ready (exit {self.proc.poll()}); its log "
                f"{self.log_path} ends:\n{self.log_tail()}\n(an operator that ignores "
                "TRACING_SERVICE_ACCOUNT_DIR looks for /var/run/secrets/kubernetes.io/serviceaccount)")

    def stop(self, timeout=30):
        """SIGTERM; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"no exit {timeout} s after SIGTERM; log {self.log_path}")

    def kill(self):
        """SIGKILL: the Pod is gone, nothing cleaned up."""
        self.proc.kill()
        self.proc.wait()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @staticmethod
    def get(port, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return None

    def metric(self, series):
        for line in (self.get(self.metrics_port, "/metrics") or "").splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
        return None

    def log_lines(self):
        return Path(self.log_path).read_text().splitlines()

    def log_tail(self, n=30):
        return "\n".join(self.log_lines()[-n:])

    def messages(self):
        """The msg of every log record; a line that is not a JSON record fails the test."""
        out = []
        for line in self.log_lines():
            try:
                out.append(json.loads(line)["msg"])
            except (ValueError, KeyError):
                raise AssertionError(
                    f"not a JSON log record (the chart sets --log-format=json): {line!r}")
        return out


class InClusterCase(unittest.TestCase):
    """A fresh release in its own namespace (the root namespace), an application namespace with
    workloads, and the operator run as the release's ServiceAccount."""

    def setUp(self):
        self.t0 = time.monotonic()
        self.kubectl_bin, self.kubeconfig = cluster_env()
        self.cp_dir = os.environ["TRACING_CP_DIR"]
        suffix = secrets.token_hex(3)
        self.ns = f"ic-{suffix}"  # release namespace = root namespace
        self.app = f"ic-{suffix}-app"
        self.release = f"ic-{suffix}"
        self.fullname = f"{self.release}-tracing-operator"  # also the ServiceAccount
        self.operators, self.pods = [], []
        self.helm_installed = False
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.had_dapr_crd = self.exists("crd", DAPR_CRD)
        for ns in (self.ns, self.app):
            self.kubectl("create", "namespace", ns)

    def tearDown(self):
        for op in self.operators:
            if op.running():
                op.kill()
        for pod in self.pods:
            pod.cleanup()
        if self.helm_installed:
            self.helm("uninstall", self.release, "-n", self.ns, check=False)
        # Whatever a failed test left: no operator runs, so drop the finalizers first.
        for ns in (self.ns, self.app):
            if self.exists("crd", CRD):
                policies = self.kubectl("get", "tp", "-n", ns, "-o", "name", check=False).stdout
                for name in policies.split():
                    self.kubectl("patch", name, "-n", ns, "--type", "merge", "-p",
                                 '{"metadata":{"finalizers":null}}', check=False)
            self.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found", check=False)
        self.kubectl("delete", "clusterrole,clusterrolebinding", "-l",
                     f"app.kubernetes.io/instance={self.release}", "--ignore-not-found", check=False)
        if not self.exists("crd", CRD):  # the escape hatch failed between deleting and restoring it
            self.restore_crd(check=False)
        if not self.had_dapr_crd:
            self.kubectl("delete", "crd", DAPR_CRD, "--ignore-not-found", "--timeout=60s", check=False)
        print(f"[ incluster ] {self.id().split('.')[-1]}: {time.monotonic() - self.t0:.1f} s",
              file=sys.stderr)

    # --- tools

    def kubectl(self, *args, input=None, check=True):
        return run([self.kubectl_bin, "--kubeconfig", self.kubeconfig, *map(str, args)],
                   input=input, check=check)

    def as_pod(self, pod, *args, check=True):
        """kubectl authenticated only by the Pod's token (no kubeconfig at all)."""
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(pod.home)}
        return run([self.kubectl_bin, *pod.kubectl_args(), *map(str, args)], check=check, env=env)

    def helm(self, *args, check=True):
        return helm(*args, "--kubeconfig", self.kubeconfig, check=check)

    def exists(self, kind, name, ns=None):
        args = ["get", kind, name] + (["-n", ns] if ns else [])
        return self.kubectl(*args, check=False).returncode == 0

    def get(self, kind, name, ns=None):
        args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
        r = self.kubectl(*args, check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def names(self, kinds, ns, *selector):
        out = self.kubectl("get", kinds, "-n", ns, *selector, "-o", "name").stdout.split()
        return set(out)

    def restore_crd(self, check=True):
        """The CRD as other tests expect it (they apply it too; Helm installs it when missing)."""
        self.kubectl("apply", "--server-side", "--field-manager=tracing-tests", "-f", CRD_FILE,
                     check=check)
        self.kubectl("wait", "--for=condition=Established", f"crd/{CRD}", "--timeout=30s", check=check)

    def install_release(self, *sets):
        """helm install with the chart's defaults (and `sets`); the CRD may already be there (other
        tests', a previous release's): Helm then leaves it as it is."""
        args = [a for s in sets for a in ("--set", s)]
        out = self.helm("install", self.release, CHART, "-n", self.ns, *args)
        self.helm_installed = True
        self.assertTrue(self.exists("crd", CRD), out.stdout)
        return out

    def install_dapr_crd(self):
        self.kubectl("apply", "--server-side", "--field-manager=tracing-tests", "-f", DAPR_CRD_FILE)
        self.kubectl("wait", "--for=condition=Established", f"crd/{DAPR_CRD}", "--timeout=30s")
        served = eventually(lambda: "configurations" in self.kubectl(
            "api-resources", "--api-group=dapr.io", "-o", "name", check=False).stdout)
        self.assertTrue(served, "dapr.io configurations not served")

    def pod(self):
        """A token for the release's ServiceAccount (TokenRequest), laid out as a Pod gets it."""
        token = self.kubectl("create", "token", self.fullname, "-n", self.ns,
                             "--duration=1h").stdout.strip()
        pod = Pod(self.cp_dir, self.kubeconfig, token, self.ns)
        self.pods.append(pod)
        return pod

    def chart_args(self):
        """The operator's arguments as the installed chart's Deployment passes them."""
        dep = self.get("deployment", self.fullname, self.ns)
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        args = container["args"]
        self.assertIn("--leader-elect", args, "the chart runs the operator with leader election")
        self.assertFalse([a for a in args if a.startswith("--kubeconfig")], args)
        return args

    def operator(self, pod, name):
        op = Operator(pod, self.chart_args(), LOG_DIR / f"helm.incluster.{self.release}.{name}.log")
        self.operators.append(op)
        return op

    def deployment(self, ns, name, env=None, annotations=None):
        """A workload; its pod template as the API server stored it (defaults filled in)."""
        container = {"name": "app", "image": f"registry.example/{name}:1"}
        if env:
            container["env"] = env
        template_meta = {"labels": {"app": name}}
        if annotations:
            template_meta["annotations"] = annotations
        obj = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": template_meta, "spec": {"containers": [container]}}}}
        created = self.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(obj)).stdout
        return json.loads(created)["spec"]["template"]

    def template(self, ns, name):
        return self.get("deployment", name, ns)["spec"]["template"]

    def env(self, ns, name):
        (c,) = self.template(ns, name)["spec"]["containers"]
        return {e["name"]: e.get("value") for e in c.get("env", [])}

    def wait_env(self, ns, name, var, value, timeout=30):
        ok = eventually(lambda: self.env(ns, name).get(var) == value, timeout)
        self.assertTrue(ok, f"{ns}/{name}: {var} is {self.env(ns, name).get(var)!r}, want {value!r}")

    def apply_policy(self, ns, name, spec):
        """A policy; in the root namespace it reaches only the test's application namespace (the
        cluster is shared with other tests' workloads)."""
        if ns == self.ns:
            only_app = {"matchLabels": {"kubernetes.io/metadata.name": self.app}}
            spec = {"namespaceSelector": only_app, **spec}
        obj = {"apiVersion": "tracing.rollout.dev/v1alpha1", "kind": "TracingPolicy",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}
        self.kubectl("apply", "--server-side", "--field-manager=kubectl", "-f", "-",
                     input=json.dumps(obj))

    def wait_finalizer(self, ns, name):
        ok = eventually(lambda: FINALIZER in ((self.get("tp", name, ns) or {}).get("metadata", {})
                                              .get("finalizers", [])))
        self.assertTrue(ok, f"policy {ns}/{name} never got the finalizer {FINALIZER}")

    def dapr_tracing(self, ns, name="tracing"):
        c = self.get("configurations.dapr.io", name, ns)
        return c["spec"].get("tracing") if c else None

    def wait_gone(self, kind, name, ns=None, timeout=60):
        if not eventually(lambda: not self.exists(kind, name, ns), timeout):
            where = ["-n", ns] if ns else []
            still = self.kubectl("get", kind, name, "-o", "yaml", *where, check=False).stdout
            self.fail(f"{kind} {name} still there after {timeout} s:\n{still}")


class InClusterIdentityAndUninstall(InClusterCase):
    def test_the_chart_identity_runs_every_feature_and_the_uninstall_leaves_nothing(self):
        out = self.install_release()
        self.assertIn("kubectl get tp -A", out.stdout)
        self.install_dapr_crd()
        web_before = self.deployment(self.app, "web", env=[{"name": "LOG_LEVEL", "value": "info"}])
        dapr_before = self.deployment(self.app, "orders", annotations={
            "dapr.io/enabled": "true", "dapr.io/app-id": "orders"})
        pod = self.pod()
        op = self.operator(pod, "a")
        audit_offset = (Path(self.cp_dir) / "audit.log").stat().st_size
        op.start()
        sa_user = f"system:serviceaccount:{self.ns}:{self.fullname}"

        # --- who it is
        self.assertTrue(eventually(lambda: op.metric("tracing_operator_leader") == 1),
                        "never led:\n" + op.log_tail())
        msgs = op.messages()
        connected = f"connected to https://{pod.host}:{pod.port} (in-cluster); root namespace {self.ns}"
        self.assertIn(connected, msgs,
                      "in-cluster config, and the root namespace defaults to the Pod's namespace")
        acquired = rf"leader election: (\S+) acquired Lease {self.ns}/{LEASE}$"
        acquired = [m.group(1) for m in (re.match(acquired, msg) for msg in msgs) if m]
        self.assertEqual(len(acquired), 1, "the Lease is in the Pod's namespace:\n" + "\n".join(msgs))
        identity = acquired[0]
        lease = self.get("lease", LEASE, self.ns)
        self.assertEqual(lease["spec"]["holderIdentity"], identity)
        whoami = json.loads(self.as_pod(pod, "auth", "whoami", "-o", "json").stdout)
        self.assertEqual(whoami["status"]["userInfo"]["username"], sa_user)

        with self.subTest("kubectl auth can-i as the ServiceAccount (its own token)"):
            def can(*args):
                return self.as_pod(pod, "auth", "can-i", *args, check=False).stdout.strip()

            for ns_args in (["-n", self.ns], ["-n", self.app], ["-n", "default"], ["--all-namespaces"]):
                self.assertEqual(can("get", "secrets", *ns_args), "no", ns_args)
                self.assertEqual(can("list", "secrets", *ns_args), "no", ns_args)
            self.assertEqual(can("get", f"leases.coordination.k8s.io/{LEASE}", "-n", self.ns), "yes")
            self.assertEqual(can("update", f"leases.coordination.k8s.io/{LEASE}", "-n", self.ns), "yes")
            self.assertEqual(can("create", "leases.coordination.k8s.io", "-n", self.ns), "yes")
            self.assertEqual(can("update", "leases.coordination.k8s.io/other", "-n", self.ns), "no")
            for verb, ns in (("get", self.app), ("create", self.app), ("update", self.app),
                             ("delete", self.ns), ("create", "default"), ("get", "kube-system")):
                self.assertEqual(can(verb, "leases.coordination.k8s.io", "-n", ns), "no", (verb, ns))
            self.assertEqual(can("get", "leases.coordination.k8s.io", "--all-namespaces"), "no")
            self.assertEqual(can("patch", "deployments.apps", "-n", self.app), "yes")

        # --- env injection from a root policy into another namespace
        self.apply_policy(self.ns, "cluster-default", {
            "exporter": {"endpoint": "http://collector.observability.svc:4317", "protocol": "grpc",
                         "insecure": True},
            "sampling": {"sampler": "parentbased_traceidratio", "ratio": "0.1"},
            "propagators": ["tracecontext", "baggage"],
            "resourceAttributes": {"deployment.environment": "prod"},
        })
        self.wait_env(self.app, "web", "OTEL_TRACES_SAMPLER_ARG", "0.1")
        self.assertEqual(self.env(self.app, "web"), {
            "LOG_LEVEL": "info",
            "OTEL_SERVICE_NAME": "web",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.observability.svc:4317",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
            "OTEL_PROPAGATORS": "tracecontext,baggage",
            # k8s.namespace.name, k8s.deployment.name, then resourceAttributes (SPEC §4)
            "OTEL_RESOURCE_ATTRIBUTES":
                f"k8s.namespace.name={self.app},k8s.deployment.name=web,deployment.environment=prod",
        })
        self.assertEqual(next(iter(self.env(self.app, "web"))), "LOG_LEVEL",
                         "the workload's own entry stays first")
        self.wait_finalizer(self.ns, "cluster-default")

        # --- Dapr: the Dapr-enabled workload is pointed at Configuration "tracing"
        self.assertTrue(eventually(lambda: self.dapr_tracing(self.app)), "no Configuration tracing")
        self.assertEqual(self.dapr_tracing(self.app), {
            "samplingRate": "0.1",
            "otel": {"endpointAddress": "collector.observability.svc:4317", "isSecure": False,
                     "protocol": "grpc"}})
        self.assertTrue(eventually(lambda: self.template(self.app, "orders")["metadata"]
                                   .get("annotations", {}).get("dapr.io/config") == "tracing"))

        # --- a debug bump raises the ratio
        self.apply_policy(self.ns, "cluster-default", {
            "exporter": {"endpoint": "http://collector.observability.svc:4317", "protocol": "grpc",
                         "insecure": True},
            "sampling": {"sampler": "parentbased_traceidratio", "ratio": "0.1"},
            "propagators": ["tracecontext", "baggage"],
            "resourceAttributes": {"deployment.environment": "prod"},
            "debug": {"ratio": "1", "duration": "1m", "reason": "in-cluster test"},
        })
        self.wait_env(self.app, "web", "OTEL_TRACES_SAMPLER_ARG", "1")
        self.wait_env(self.app, "orders", "OTEL_TRACES_SAMPLER_ARG", "1")
        self.assertTrue(eventually(
            lambda: (self.dapr_tracing(self.app) or {}).get("samplingRate") == "1"))

        # --- deleting the policy reverts exactly
        self.kubectl("delete", "tp", "cluster-default", "-n", self.ns, "--timeout=60s")
        self.assertEqual(self.template(self.app, "web"), web_before)
        self.assertEqual(self.template(self.app, "orders"), dapr_before)
        self.wait_gone("configurations.dapr.io", "tracing", self.app)

        # --- managed Jaeger (no exporter.endpoint) in the root namespace, plus a namespace policy
        self.apply_policy(self.ns, "managed", {"sampling": {"ratio": "0.2"}})
        self.apply_policy(self.app, "team", {"selector": {"matchLabels": {"app": "web"}},
                                             "sampling": {"ratio": "0.5"}})
        collector = f"http://jaeger-collector.{self.ns}.svc:4317"
        self.wait_env(self.app, "orders", "OTEL_EXPORTER_OTLP_ENDPOINT", collector)
        self.wait_env(self.app, "orders", "OTEL_TRACES_SAMPLER_ARG", "0.2")
        self.wait_env(self.app, "web", "OTEL_EXPORTER_OTLP_ENDPOINT", collector)
        self.wait_env(self.app, "web", "OTEL_TRACES_SAMPLER_ARG", "0.5")
        managed = lambda: self.names("configmaps,deployments,services", self.ns, "-l", MANAGED)
        self.assertTrue(eventually(lambda: JAEGER_OBJECTS <= managed()), managed())
        self.assertTrue(eventually(lambda: (self.dapr_tracing(self.app) or {}).get("otel", {})
                                   .get("endpointAddress") == f"jaeger-collector.{self.ns}.svc:4317"),
                        self.dapr_tracing(self.app))
        self.wait_finalizer(self.app, "team")

        # Everything it wrote, it wrote as the ServiceAccount, and nothing was refused.
        writes = [json.loads(line) for line in
                  (Path(self.cp_dir) / "audit.log").read_bytes()[audit_offset:].decode().splitlines()]
        by_op = [w for w in writes if identity in w.get("userAgent", "")]
        self.assertGreater(len(by_op), 5)
        self.assertEqual({w["user"]["username"] for w in by_op}, {sa_user})
        refused = [(w["verb"], w["requestURI"], w["responseStatus"].get("code")) for w in by_op
                   if w.get("responseStatus", {}).get("code") in (401, 403)]
        self.assertEqual(refused, [], "the chart's RBAC refused the operator")
        records = [json.loads(line) for line in op.log_lines()]
        complaints = [r["msg"] for r in records if r["level"] == "error" or "orbidden" in r["msg"]]
        self.assertEqual(complaints, [])

        # === The uninstall, as the README says: policies first ...
        t = time.monotonic()
        for ns in (self.app, self.ns):
            self.kubectl("delete", "tp", "--all", "-n", ns, "--timeout=60s")
        print(f"[ incluster ] deleting the policies (reverts included): {time.monotonic() - t:.1f} s",
              file=sys.stderr)
        self.assertEqual(self.template(self.app, "web"), web_before,
                         "web is back as before the first policy")
        self.assertEqual(self.template(self.app, "orders"), dapr_before, "orders is back as before")
        for name in ("web", "orders"):
            annotations = self.get("deployment", name, self.app)["metadata"].get("annotations", {})
            self.assertEqual([a for a in annotations if a.startswith("tracing.rollout.dev/")], [],
                             f"bookkeeping left on {name}")
        self.wait_gone("configurations.dapr.io", "tracing", self.app)
        self.assertTrue(eventually(lambda: not managed()),
                        "the managed Jaeger is removed with the last policy that wants it")

        # ... then the operator stops (SIGTERM: exit 0, the Lease released) ...
        self.assertEqual(op.stop(), 0, op.log_tail())
        self.assertFalse(self.get("lease", LEASE, self.ns)["spec"].get("holderIdentity"),
                         "SIGTERM clears the Lease's holder")

        # ... then the release goes, and nothing of the operator stays behind.
        self.helm("uninstall", self.release, "-n", self.ns)
        self.helm_installed = False
        label = f"app.kubernetes.io/instance={self.release}"
        cluster_scoped = self.kubectl("get", "clusterroles,clusterrolebindings", "-l", label,
                                      "-o", "name").stdout
        self.assertEqual(cluster_scoped, "")
        kinds = ("serviceaccounts,roles,rolebindings,deployments,replicasets,services,endpoints,"
                 "poddisruptionbudgets,configmaps,secrets,leases,configurations.dapr.io")

        def left(ns):
            return {n for n in self.names(kinds, ns)
                    if n not in ("serviceaccount/default", "configmap/kube-root-ca.crt")}

        # What remains in the release namespace: only the Lease, which the operator created (the
        # chart did not); the chart's ReplicaSet and Pods (Pending: no kubelet) go with its
        # Deployment (garbage collection).
        want = {f"lease.coordination.k8s.io/{LEASE}"}
        self.assertEqual(eventually(lambda: left(self.ns) == want, 30) and left(self.ns), want)
        self.assertTrue(eventually(lambda: not self.names("pods", self.ns), 30),
                        self.names("pods", self.ns))
        # In the application namespace: the user's workloads (and their ReplicaSets), nothing else.
        self.assertEqual({n for n in left(self.app) if not n.startswith("replicaset.apps/")},
                         {"deployment.apps/web", "deployment.apps/orders"})
        # The Lease, as the README says.
        self.kubectl("delete", "lease", LEASE, "-n", self.ns)

        # No namespace hangs in Terminating: nothing holds a finalizer any more.
        t = time.monotonic()
        for ns in (self.ns, self.app):
            self.kubectl("delete", "namespace", ns, "--wait=false")
        for ns in (self.ns, self.app):
            self.wait_gone("namespace", ns, timeout=90)
        print(f"[ incluster ] namespaces deleted: {time.monotonic() - t:.1f} s", file=sys.stderr)


class OperatorGoneEscapeHatch(InClusterCase):
    def test_a_killed_operator_leaves_deletions_pending_and_the_documented_patch_releases_them(self):
        hatch = readme_escape_hatch()  # before anything: a README without it fails fast
        # Short Lease timings (the chart's values), so the restarted operator takes over quickly.
        self.install_release("leaderElection.leaseDuration=4s", "leaderElection.renewDeadline=3s",
                             "leaderElection.retryPeriod=1s")
        web_before = self.deployment(self.app, "web", env=[{"name": "LOG_LEVEL", "value": "info"}])
        pod = self.pod()
        op = self.operator(pod, "a")
        op.start()
        spec = {"exporter": {"endpoint": "http://collector.observability.svc:4317"},
                "sampling": {"ratio": "0.3"}}
        self.apply_policy(self.ns, "cluster-default", spec)
        self.wait_env(self.app, "web", "OTEL_TRACES_SAMPLER_ARG", "0.3")
        self.wait_finalizer(self.ns, "cluster-default")

        # The operator is killed: its policy's deletion waits for it.
        op.kill()
        self.kubectl("delete", "tp", "cluster-default", "-n", self.ns, "--wait=false")
        time.sleep(3)
        stuck = self.get("tp", "cluster-default", self.ns)
        self.assertIsNotNone(stuck, "the finalizer holds the policy while no operator runs")
        self.assertIn("deletionTimestamp", stuck["metadata"])
        self.assertEqual(self.env(self.app, "web").get("OTEL_TRACES_SAMPLER_ARG"), "0.3")

        # Brought back, the operator finishes the deletion: reverted, then released.
        op2 = self.operator(pod, "b")
        op2.start()
        self.wait_gone("tp", "cluster-default", self.ns)
        self.assertEqual(self.template(self.app, "web"), web_before)

        # Policies in two namespaces, then the operator gone for good: killed and uninstalled.
        self.apply_policy(self.ns, "cluster-default", spec)
        self.apply_policy(self.app, "team", {"sampling": {"ratio": "0.6"}})
        self.wait_env(self.app, "web", "OTEL_TRACES_SAMPLER_ARG", "0.6")
        self.wait_finalizer(self.ns, "cluster-default")
        self.wait_finalizer(self.app, "team")
        op2.kill()
        self.helm("uninstall", self.release, "-n", self.ns)
        self.helm_installed = False
        for ns in (self.ns, self.app):
            self.kubectl("delete", "tp", "--all", "-n", ns, "--wait=false")
        self.kubectl("delete", "namespace", self.app, "--wait=false")

        def held_by_finalizer():
            conditions = (self.get("namespace", self.app) or {}).get("status", {}).get("conditions", [])
            return [c["message"] for c in conditions
                    if c["type"] == "NamespaceFinalizersRemaining" and c["status"] == "True"]

        held = eventually(held_by_finalizer, 30)
        self.assertTrue(held, "the namespace should wait for the policy's finalizer")
        self.assertIn(FINALIZER, held[0])
        self.assertIsNotNone(self.get("tp", "cluster-default", self.ns))
        self.assertIsNotNone(self.get("tp", "team", self.app))

        # The README's escape hatch, verbatim.
        t = time.monotonic()
        env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                   PATH=f"{Path(self.kubectl_bin).parent}:{os.environ.get('PATH', '')}")
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", hatch], capture_output=True, text=True,
                           env=env, timeout=120)
        self.assertEqual(r.returncode, 0, f"{hatch}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}")
        self.wait_gone("tp", "cluster-default", self.ns)
        self.wait_gone("tp", "team", self.app)
        self.wait_gone("namespace", self.app, timeout=90)
        print(f"[ incluster ] escape hatch: policies and namespace released in "
              f"{time.monotonic() - t:.1f} s", file=sys.stderr)

        # With no finalizer left anywhere, the CRD goes (and every policy with it).
        self.apply_policy(self.ns, "leftover", spec)  # no operator: no finalizer
        self.kubectl("delete", "crd", CRD, "--timeout=60s")
        self.assertFalse(self.exists("crd", CRD))
        self.restore_crd()


if __name__ == "__main__":
    main()
