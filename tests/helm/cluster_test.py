"""The chart against the local kube-apiserver (scripts/test starts it): the API server accepts what
Helm renders, Pod Security "restricted" admits the Pod, and a real `helm install` / `upgrade` /
`uninstall` creates, changes and removes the objects. There is no kubelet: nothing waits for Pods;
the tests check the objects."""

import json
import secrets
import time
import unittest

from helmtest import CHART, ROOT, cluster_env, documents, helm, main, one, run

CRD = "tracingpolicies.tracing.rollout.dev"


class Cluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kubectl_bin, cls.kubeconfig = cluster_env()
        suffix = secrets.token_hex(3)
        # A release name without the chart name: objects are "<release>-tracing-operator", so
        # cluster-scoped ones never collide with other tests' (deploy/rbac.yaml's "tracing-operator").
        cls.ns = f"helm-test-{suffix}"
        cls.release = f"ht-{suffix}"
        cls.fullname = f"{cls.release}-tracing-operator"
        cls.kubectl("create", "namespace", cls.ns)
        cls.kubectl("label", "namespace", cls.ns, "pod-security.kubernetes.io/enforce=restricted")

    @classmethod
    def tearDownClass(cls):
        helm("uninstall", cls.release, "-n", cls.ns, "--kubeconfig", cls.kubeconfig, check=False)
        cls.kubectl("delete", "namespace", cls.ns, "--wait=false", check=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if cls.kubectl("get", "namespace", cls.ns, check=False).returncode != 0:
                return
            time.sleep(0.5)
        raise AssertionError(f"namespace {cls.ns} still there 60 s after its deletion")

    @classmethod
    def kubectl(cls, *args, input=None, check=True):
        return run([cls.kubectl_bin, "--kubeconfig", cls.kubeconfig, *map(str, args)], input=input,
                   check=check)

    def helm(self, *args, check=True):
        return helm(*args, "--kubeconfig", self.kubeconfig, check=check)

    def get(self, kind, name, namespaced=True):
        args = ["get", kind, name, "-o", "json"] + (["-n", self.ns] if namespaced else [])
        r = self.kubectl(*args, check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def eventually_pods(self, want, timeout=30):
        """The release's Pod names once there are `want` of them, or what there is at timeout."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.kubectl("get", "pods", "-n", self.ns, "-l",
                                f"app.kubernetes.io/instance={self.release}", "-o", "name").stdout.split()
            if len(pods) == want or time.monotonic() > deadline:
                return pods
            time.sleep(0.5)

    def dry_run_apply(self, manifest):
        r = self.kubectl("apply", "--server-side", "--dry-run=server", "--force-conflicts",
                         "--field-manager=tracing-helm-test", "-f", "-", input=manifest, check=False)
        self.assertEqual(r.returncode, 0, f"the API server refused the manifest:\n{r.stderr}")
        return r.stdout

    # --- what the API server says about the rendered objects (nothing is persisted)

    def test_api_server_accepts_the_rendered_chart(self):
        manifest = self.helm("template", self.release, CHART, "-n", self.ns, "--include-crds").stdout
        out = self.dry_run_apply(manifest)
        self.assertEqual(out.count("(server dry run)"), len(documents(manifest)), out)

    def test_api_server_accepts_the_one_file_install(self):
        # Its objects live in tracing-system: a dry run of them needs the namespace to exist
        # (the integration tests create the same namespace; it is left in place).
        if self.kubectl("get", "namespace", "tracing-system", check=False).returncode != 0:
            self.kubectl("create", "namespace", "tracing-system")
        manifest = (ROOT / "deploy" / "tracing-operator.yaml").read_text()
        out = self.dry_run_apply(manifest)
        self.assertEqual(out.count("(server dry run)"), len(documents(manifest)), out)

    def test_pod_security_restricted_admits_the_operator_pod(self):
        objs = documents(self.helm("template", self.release, CHART, "-n", self.ns).stdout)
        template = one(objs, "Deployment")["spec"]["template"]
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "admission-probe", "namespace": self.ns, **template["metadata"]},
               "spec": template["spec"]}
        r = self.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
        self.assertEqual(r.returncode, 0, f"Pod Security refused the operator's Pod:\n{r.stderr}")
        # The namespace really enforces "restricted": the same Pod allowed to escalate is refused.
        pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
        r = self.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("violates PodSecurity", r.stderr)

    # --- a real release

    def test_install_upgrade_uninstall(self):
        sa = f"system:serviceaccount:{self.ns}:{self.fullname}"
        installed = [("serviceaccount", self.fullname, True), ("clusterrole", self.fullname, False),
                     ("clusterrolebinding", self.fullname, False), ("role", self.fullname, True),
                     ("rolebinding", self.fullname, True), ("deployment", self.fullname, True),
                     ("service", f"{self.fullname}-metrics", True),
                     ("poddisruptionbudget", self.fullname, True)]

        with self.subTest("install"):
            out = self.helm("install", self.release, CHART, "-n", self.ns).stdout
            self.assertIn("kubectl get tp -A", out, "NOTES.txt should say what to do next")
            for kind, name, namespaced in installed:
                self.assertIsNotNone(self.get(kind, name, namespaced), f"{kind} {name} not installed")
            self.assertEqual(self.get("deployment", self.fullname)["spec"]["replicas"], 2)
            # The controller manager's ReplicaSet gets its Pods past Pod Security "restricted"
            # (they stay Pending: there is no kubelet).
            pods = self.eventually_pods(2)
            self.assertEqual(len(pods), 2, f"the ReplicaSet made {len(pods)} Pods, want 2")
            self.assertIsNotNone(self.get("crd", CRD, namespaced=False))

        with self.subTest("the ServiceAccount gets exactly the chart's RBAC"):
            def can(*args):
                r = self.kubectl("auth", "can-i", *args, "--as", sa, check=False)
                return r.stdout.strip()

            self.assertEqual(can("patch", "deployments.apps", "--all-namespaces"), "yes")
            self.assertEqual(can("patch", "tracingpolicies.tracing.rollout.dev", "--subresource=status",
                                 "--all-namespaces"), "yes")
            self.assertEqual(can("create", "leases.coordination.k8s.io", "-n", self.ns), "yes")
            self.assertEqual(can("update", "leases.coordination.k8s.io/tracing-operator", "-n", self.ns), "yes")
            self.assertEqual(can("update", "leases.coordination.k8s.io/other", "-n", self.ns), "no")
            self.assertEqual(can("create", "leases.coordination.k8s.io", "-n", "default"), "no")
            self.assertEqual(can("get", "secrets", "-n", self.ns), "no")
            self.assertEqual(can("list", "secrets", "--all-namespaces"), "no")

        with self.subTest("upgrade: changed values reach the Deployment"):
            self.helm("upgrade", self.release, CHART, "-n", self.ns,
                      "--set", "replicaCount=1", "--set", "logging.level=debug")
            dep = self.get("deployment", self.fullname)
            self.assertEqual(dep["spec"]["replicas"], 1)
            self.assertIn("--log-level=debug", dep["spec"]["template"]["spec"]["containers"][0]["args"])
            # One replica: no disruption budget any more.
            self.assertIsNone(self.get("poddisruptionbudget", self.fullname))

        with self.subTest("uninstall leaves nothing of the operator behind"):
            self.helm("uninstall", self.release, "-n", self.ns)
            for kind, name, namespaced in installed:
                self.assertIsNone(self.get(kind, name, namespaced), f"{kind} {name} left behind")
            label = f"app.kubernetes.io/instance={self.release}"
            left = self.kubectl("get", "serviceaccounts,roles,rolebindings,deployments,services,"
                                "poddisruptionbudgets,configmaps", "-n", self.ns, "-l", label,
                                "-o", "name").stdout
            self.assertEqual(left, "")
            left = self.kubectl("get", "clusterroles,clusterrolebindings", "-l", label, "-o", "name").stdout
            self.assertEqual(left, "")
            releases = self.kubectl("get", "secrets", "-n", self.ns, "-l", f"owner=helm,name={self.release}",
                                    "-o", "name").stdout
            self.assertEqual(releases, "", "Helm's release records left behind")
            # The ReplicaSets and Pods the controller manager made go with the Deployment (GC).
            self.assertEqual(self.eventually_pods(0), [], "garbage collection left Pods behind")
            left = self.kubectl("get", "replicasets", "-n", self.ns, "-l", label, "-o", "name").stdout
            self.assertEqual(left, "", "garbage collection left ReplicaSets behind")
            # Helm never deletes a chart's crds/: other tests' policies and the cluster's keep theirs.
            self.assertIsNotNone(self.get("crd", CRD, namespaced=False))


if __name__ == "__main__":
    main()
