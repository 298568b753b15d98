"""The chart, rendered by a real Helm: lint, what the defaults produce, what the schema refuses,
and the sources of truth it must not drift from (operator version, deploy/rbac.yaml, crds/,
deploy/tracing-operator.yaml). No cluster needed."""

import json
import re
import tempfile
import unittest
from pathlib import Path

import yaml

from helmtest import BUILD_DIR, CHART, ROOT, by_kind, documents, helm, main, one, render, run

RELEASE, NAMESPACE = "test", "test-ns"


def container(objs):
    pod = one(objs, "Deployment")["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    return pod, c


class Lint(unittest.TestCase):
    def test_lint_strict_passes_with_defaults_and_every_optional_part(self):
        for sets in ([], ["serviceMonitor.enabled=true", "replicaCount=1"]):
            args = ["lint", "--strict", CHART]
            for s in sets:
                args += ["--set", s]
            r = helm(*args)
            self.assertIn("0 chart(s) failed", r.stdout, r.stdout)


class Defaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objs = render(release=RELEASE, namespace=NAMESPACE)

    def test_renders_exactly_the_install_objects(self):
        kinds = sorted(o["kind"] for o in self.objs)
        self.assertEqual(
            kinds,
            sorted([
                "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                "Deployment", "Service", "PodDisruptionBudget",
            ]),
        )
        for o in self.objs:
            if o["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
                self.assertEqual(o["metadata"]["namespace"], NAMESPACE, o["kind"])
            # Cluster-scoped names carry the release, so two releases never share one.
            self.assertTrue(o["metadata"]["name"].startswith("test-tracing-operator"), o["metadata"])

    def test_two_replicas_with_leader_election_json_logs_and_release_namespace_as_root(self):
        dep = one(self.objs, "Deployment")
        self.assertEqual(dep["spec"]["replicas"], 2)
        _, c = container(self.objs)
        self.assertEqual(
            c["args"],
            [
                f"--root-namespace={NAMESPACE}",
                "--leader-elect",
                f"--leader-election-namespace={NAMESPACE}",
                "--leader-election-lease-duration=15s",
                "--leader-election-renew-deadline=10s",
                "--leader-election-retry-period=2s",
                "--workers=4",
                "--qps=auto",
                "--burst=30",
                "--max-concurrent-reverts=25",
                "--override-backoff=30s",
                "--log-format=json",
                "--log-level=info",
                "--metrics-bind-address=:8080",
                "--health-probe-bind-address=:8081",
            ],
        )
        self.assertEqual(c["image"], "ghcr.io/tracing-operator/tracing-operator:0.1")

    def test_pod_meets_pod_security_restricted(self):
        pod, c = container(self.objs)
        self.assertEqual(
            pod["securityContext"],
            {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
             "seccompProfile": {"type": "RuntimeDefault"}},
        )
        sc = c["securityContext"]
        self.assertIs(sc["allowPrivilegeEscalation"], False)
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertIs(sc["runAsNonRoot"], True)
        self.assertEqual(sc["runAsUser"], 65532)
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(sc["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertEqual(set(c["resources"]), {"requests", "limits"})
        self.assertEqual(set(c["resources"]["limits"]), {"cpu", "memory"})

    def test_probes_and_metrics_service_use_the_operator_ports(self):
        _, c = container(self.objs)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports, {"metrics": 8080, "health": 8081})
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "health"})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "health"})
        svc = one(self.objs, "Service")
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "metrics")
        self.assertEqual(svc["spec"]["selector"], one(self.objs, "Deployment")["spec"]["selector"]["matchLabels"])

    def test_lease_permissions_only_in_the_release_namespace_and_no_secrets(self):
        cluster_rules = one(self.objs, "ClusterRole")["rules"]
        for rule in cluster_rules:
            self.assertNotIn("coordination.k8s.io", rule["apiGroups"], rule)
            self.assertNotIn("secrets", rule["resources"], rule)
        role = one(self.objs, "Role")
        self.assertEqual(role["metadata"]["namespace"], NAMESPACE)
        self.assertEqual({g for r in role["rules"] for g in r["apiGroups"]}, {"coordination.k8s.io"})
        binding = one(self.objs, "RoleBinding")
        self.assertEqual(binding["subjects"][0]["name"], one(self.objs, "ServiceAccount")["metadata"]["name"])


class Values(unittest.TestCase):
    def test_root_namespace_value_overrides_the_release_namespace(self):
        _, c = container(render("rootNamespace=observability"))
        self.assertIn("--root-namespace=observability", c["args"])

    def test_leader_election_off_drops_every_election_flag(self):
        _, c = container(render("leaderElection.enabled=false", "replicaCount=1"))
        self.assertEqual([a for a in c["args"] if a.startswith("--leader-elect")], [])

    def test_election_durations_reach_the_flags(self):
        _, c = container(render("leaderElection.leaseDuration=30s", "leaderElection.renewDeadline=20s",
                                "leaderElection.retryPeriod=4s"))
        for flag in ("--leader-election-lease-duration=30s", "--leader-election-renew-deadline=20s",
                     "--leader-election-retry-period=4s"):
            self.assertIn(flag, c["args"])

    def test_disruption_budget_only_with_more_than_one_replica(self):
        self.assertEqual(by_kind(render("replicaCount=1"), "PodDisruptionBudget"), [])
        pdb = one(render("replicaCount=3"), "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)

    def test_service_monitor_off_by_default_and_scrapes_the_metrics_service_when_on(self):
        self.assertEqual(by_kind(render(), "ServiceMonitor"), [])
        objs = render("serviceMonitor.enabled=true", "serviceMonitor.labels.release=prom")
        sm = one(objs, "ServiceMonitor")
        svc = one(objs, "Service")
        self.assertEqual(sm["metadata"]["labels"]["release"], "prom")
        for k, v in sm["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(svc["metadata"]["labels"].get(k), v, k)
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], svc["spec"]["ports"][0]["name"])

    def test_existing_service_account_without_rbac(self):
        objs = render("serviceAccount.create=false", "serviceAccount.name=mine", "rbac.create=false")
        self.assertEqual(sorted(o["kind"] for o in objs), ["Deployment", "PodDisruptionBudget", "Service"])
        pod, _ = container(objs)
        self.assertEqual(pod["serviceAccountName"], "mine")


class Schema(unittest.TestCase):
    def refused(self, *sets):
        args = ["template", "t", CHART]
        for s in sets:
            args += ["--set", s]
        r = helm(*args, check=False)
        self.assertNotEqual(r.returncode, 0, f"helm accepted {sets}:\n{r.stdout}")
        return r.stderr

    def test_refuses_a_wrong_type_naming_the_field(self):
        err = self.refused("replicaCount=two")
        self.assertIn("replicaCount", err)
        self.assertRegex(err, r"(?i)integer")
        err = self.refused("leaderElection.enabled=yes-please")
        self.assertIn("enabled", err)
        self.assertRegex(err, r"(?i)boolean")

    def test_refuses_an_unknown_key_naming_it(self):
        err = self.refused("replicaCont=3")
        self.assertIn("replicaCont", err)
        self.assertRegex(err, r"(?i)additional propert")
        err = self.refused("leaderElection.leaseDurationn=20s")
        self.assertIn("leaseDurationn", err)
        err = self.refused("image.tags=v1")
        self.assertIn("tags", err)

    def test_refuses_a_malformed_duration(self):
        err = self.refused("leaderElection.leaseDuration=15sec")
        self.assertIn("leaseDuration", err)
        err = self.refused("overrideBackoff=30")
        self.assertIn("overrideBackoff", err)

    def test_every_object_in_the_schema_is_closed(self):
        schema = json.loads((CHART / "values.schema.json").read_text())
        open_objects = []

        def walk(node, path):
            if isinstance(node, dict):
                is_object = node.get("type") == "object" or "properties" in node
                if is_object and "additionalProperties" not in node:
                    # Kubernetes types passed through to the Pod spec: the API server checks them.
                    if not str(node.get("$comment", "")).startswith("Kubernetes "):
                        open_objects.append(path or "/")
                if node.get("additionalProperties") is True:
                    open_objects.append(path or "/")
                for k, v in node.items():
                    walk(v, f"{path}/{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{path}/{i}")

        walk(schema, "")
        self.assertEqual(open_objects, [], "objects without additionalProperties: false (or a typed map)")

    def test_every_default_value_is_described_by_the_schema(self):
        # The schema validates the defaults themselves: rendering succeeds with values.yaml alone,
        # and every key of values.yaml appears in the schema.
        values = yaml.safe_load((CHART / "values.yaml").read_text())
        schema = json.loads((CHART / "values.schema.json").read_text())
        defs = schema["definitions"]

        def check(v, s, path):
            if "$ref" in s:
                s = defs[s["$ref"].rsplit("/", 1)[1]]
            if isinstance(v, dict) and "properties" in s:
                for k, sub in v.items():
                    self.assertIn(k, s["properties"], f"{path}.{k} not in values.schema.json")
                    check(sub, s["properties"][k], f"{path}.{k}")

        check(values, schema, "")


class SourcesOfTruth(unittest.TestCase):
    def test_every_flag_the_chart_passes_is_one_the_operator_knows(self):
        binary = BUILD_DIR / "bin" / "tracing-operator"
        self.assertTrue(binary.exists(), f"{binary} missing: scripts/build builds it")
        usage = run([binary, "--help"]).stdout
        known = set(re.findall(r"(--[a-z][a-z-]*)", usage))
        _, c = container(render("leaderElection.enabled=true"))
        passed = {a.split("=", 1)[0] for a in c["args"]}
        self.assertEqual(passed - known, set(), f"flags the chart passes that `{binary.name} --help` lacks")

    def test_app_version_is_the_operator_version(self):
        chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
        found = {}
        for path in sorted((ROOT / "operator").rglob("*")):
            if path.suffix in (".h", ".cpp"):
                for m in re.finditer(r'"tracing-operator/([0-9][0-9A-Za-z.+-]*)"', path.read_text()):
                    found[f"{path.relative_to(ROOT)}"] = m.group(1)
        self.assertTrue(found, 'no "tracing-operator/<version>" user agent found under operator/')
        for where, version in found.items():
            self.assertEqual(version, chart["appVersion"],
                             f"{where} says {version}; Chart.yaml appVersion says {chart['appVersion']}")

    def test_chart_rbac_grants_what_deploy_rbac_grants_with_leases_in_a_role(self):
        def grants(rules):
            return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]
                    for v in rule["verbs"]}

        legacy = documents((ROOT / "deploy" / "rbac.yaml").read_text())
        objs = render()
        self.assertEqual(grants(one(objs, "ClusterRole")["rules"]),
                         grants(one(legacy, "ClusterRole")["rules"]))
        # Leases: in the Role only (the release namespace; tracing-system for deploy/rbac.yaml),
        # narrowed to the operator's Lease as far as RBAC allows.
        self.assertEqual(one(objs, "Role")["rules"], one(legacy, "Role")["rules"])
        self.assertEqual({g for g, _, _ in grants(one(objs, "Role")["rules"])}, {"coordination.k8s.io"})
        self.assertNotIn("coordination.k8s.io",
                         {g for g, _, _ in grants(one(legacy, "ClusterRole")["rules"])})

    def test_chart_ships_the_crds_of_crds_folder(self):
        shipped = documents(helm("show", "crds", CHART).stdout)
        repo = [d for f in sorted((ROOT / "crds").glob("*.yaml")) for d in documents(f.read_text())]
        self.assertTrue(repo)
        self.assertEqual(shipped, repo)

    def test_packaged_chart_carries_the_crds(self):
        # `helm package` follows the crds symlink: the archive users install holds real files.
        with tempfile.TemporaryDirectory() as tmp:
            helm("package", CHART, "--destination", tmp)
            (archive,) = Path(tmp).glob("tracing-operator-*.tgz")
            shipped = documents(helm("show", "crds", archive).stdout)
        repo = [d for f in sorted((ROOT / "crds").glob("*.yaml")) for d in documents(f.read_text())]
        self.assertEqual(shipped, repo)

    def test_one_file_install_is_a_fresh_rendering_of_the_chart(self):
        r = run([ROOT / "scripts" / "render-deploy", "--check"], check=False)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])
        objs = documents((ROOT / "deploy" / "tracing-operator.yaml").read_text())
        self.assertEqual(objs[0], {"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": "tracing-system"}})
        self.assertEqual(len(by_kind(objs, "CustomResourceDefinition")), 1)


if __name__ == "__main__":
    main()
