"""What the chart tests share: the repository's paths, a real Helm and kubectl, YAML documents.

Run through tests/helm/run, which provides the venv (PyYAML, hadolint) and $TRACING_HELM_BIN.
"""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "tracing-operator"
BUILD_DIR = Path(os.environ.get("TRACING_BUILD_DIR", ROOT / "build"))
HELM = os.environ.get("TRACING_HELM_BIN") or str(ROOT / "scripts" / "helm")

# Helm's own state (repositories, registry logins, cache) stays out of the user's home.
_HELM_HOME = tempfile.mkdtemp(prefix="tracing-helm-test-")
HELM_ENV = dict(
    os.environ,
    HELM_CACHE_HOME=f"{_HELM_HOME}/cache",
    HELM_CONFIG_HOME=f"{_HELM_HOME}/config",
    HELM_DATA_HOME=f"{_HELM_HOME}/data",
)


def cleanup_helm_home():
    shutil.rmtree(_HELM_HOME, ignore_errors=True)


def run(cmd, *, input=None, check=True, env=None):
    """Runs cmd; with check, a non-zero exit fails the calling test with the command's output."""
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, env=env, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(
            f"command failed (exit {r.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
        )
    return r


def helm(*args, check=True, input=None):
    return run([HELM, *map(str, args)], check=check, input=input, env=HELM_ENV)


def documents(text):
    """The non-empty YAML documents of text."""
    return [d for d in yaml.safe_load_all(text) if d]


def render(*sets, release="test", namespace="test-ns", extra=()):
    """helm template with --set values; returns the rendered objects."""
    args = ["template", release, CHART, "--namespace", namespace, *extra]
    for s in sets:
        args += ["--set", s]
    return documents(helm(*args).stdout)


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def one(objs, kind):
    found = by_kind(objs, kind)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, rendered {len(found)}")
    return found[0]


def cluster_env():
    """kubectl and its admin kubeconfig from the control plane scripts/test started."""
    cp_dir = os.environ.get("TRACING_CP_DIR")
    kubeconfig = os.environ.get("KUBECONFIG")
    if not cp_dir or not kubeconfig:
        raise AssertionError(
            "KUBECONFIG or TRACING_CP_DIR unset: the cluster tests run through scripts/test, "
            "which starts the local control plane"
        )
    kubectl = Path(cp_dir) / "bin" / "kubectl"
    if not kubectl.exists():
        raise AssertionError(f"{kubectl} missing: scripts/controlplane start creates it")
    return str(kubectl), kubeconfig


def main():
    try:
        unittest.main(verbosity=2)
    finally:
        cleanup_helm_home()
