"""The krew release of `kubectl tracing`, checked with krew's own tools.

scripts/package-plugin builds the archive and renders plugin/krew/tracing.yaml; this test serves
the archive from a local HTTP server (the rendered uri points at it) and runs:
  - validate-krew-manifest (sigs.k8s.io/krew v0.4.3, scripts/krew), which checks the manifest and
    installs it with `kubectl krew install --manifest` (downloading the uri, checking the sha256);
  - `kubectl krew install --manifest --archive` into a temporary KREW_ROOT, then
    `kubectl tracing --help` through kubectl's plugin lookup;
  - and the validator against broken renderings (a wrong sha256, a file named unlike the plugin),
    which must fail.
kubectl is the control plane's (tests/controlplane: k8s.io/kubectl's command, scripts/controlplane
build), kubectl-krew and the validator scripts/krew's; TRACING_KREW_DIR names a built directory.
Needs no API server.

    tests/krew/krew_test.py [unittest args]
"""

import hashlib
import http.server
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("TRACING_BUILD_DIR", os.path.join(ROOT, "build"))
KUBECTL_TRACING = os.path.join(BUILD, "bin", "kubectl-tracing")
VERSION = "v0.1.0"
ARCHIVE = "kubectl-tracing_%s_linux_amd64.tar.gz" % VERSION


def last_line(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


class Server(http.server.ThreadingHTTPServer):
    """Serves one directory on 127.0.0.1 and records the paths asked for."""

    def __init__(self, directory):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=directory, **kw)

            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

            def log_message(self, *_):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self):
        return "http://127.0.0.1:%d/releases/%s" % (self.server_address[1], VERSION)

    def close(self):
        self.shutdown()
        self.server_close()


class KrewManifest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="krew-test-")
        krew_dir = os.environ.get("TRACING_KREW_DIR") or last_line(
            [os.path.join(ROOT, "scripts", "krew"), "--path"])
        cls.validator = os.path.join(krew_dir, "validate-krew-manifest")
        # `kubectl krew` is kubectl's plugin lookup finding kubectl-krew on the PATH.
        cls.bin = os.path.join(cls.tmp, "bin")
        os.makedirs(cls.bin)
        kubectl = last_line([os.path.join(ROOT, "scripts", "controlplane"), "build"])
        os.symlink(kubectl, os.path.join(cls.bin, "kubectl"))
        os.symlink(os.path.join(krew_dir, "kubectl-krew"), os.path.join(cls.bin, "kubectl-krew"))
        cls.path = cls.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")

        cls.www = os.path.join(cls.tmp, "www")
        release = os.path.join(cls.www, "releases", VERSION)
        os.makedirs(release)
        cls.server = Server(cls.www)
        cls.manifest = last_line([
            os.path.join(ROOT, "scripts", "package-plugin"), "--binary", KUBECTL_TRACING,
            "--version", VERSION, "--out", release, "--base-uri", cls.server.base])
        cls.archive = os.path.join(release, ARCHIVE)
        with open(cls.manifest) as f:
            cls.text = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def validate(self, manifest, *flags):
        return subprocess.run(
            [self.validator, "-manifest", manifest, *flags], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env={"PATH": self.path, "HOME": self.tmp},
            timeout=120)

    def rendered(self, name, text):
        d = tempfile.mkdtemp(dir=self.tmp)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def field(self, key):
        m = re.search(r"^\s*%s: (\S+)$" % key, self.text, re.M)
        self.assertIsNotNone(m, key)
        return m.group(1)

    def test_the_manifest_names_the_archive_and_its_real_sha256(self):
        with open(self.archive, "rb") as f:
            self.assertEqual(self.field("sha256"), hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(self.field("uri"), self.server.base + "/" + ARCHIVE)
        self.assertEqual(self.field("version"), VERSION)
        self.assertNotIn("@", re.sub(r"(?m)^#.*$", "", self.text), "a placeholder left unrendered")
        with tarfile.open(self.archive) as t:
            members = {m.name: m for m in t.getmembers()}
        self.assertIn("README.md", members)
        self.assertEqual(members["kubectl-tracing"].mode & 0o111, 0o111)
        self.assertIn("LICENSE", members)

    def test_krews_validator_accepts_the_manifest(self):
        r = self.validate(self.manifest, "-skip-install")
        self.assertEqual(r.returncode, 0, r.stdout)
        for step in ("structural validation OK", "all spec.platform[] items are used",
                     "no overlapping spec.platform[].selector"):
            self.assertIn(step, r.stdout)

    def test_krews_validator_installs_it_from_the_uri(self):
        before = len(self.server.requests)
        r = self.validate(self.manifest)
        # `kubectl krew install --manifest` downloaded the archive from the uri and checked it.
        self.assertIn("/releases/%s/%s" % (VERSION, ARCHIVE), self.server.requests[before:])
        self.assertNotIn("checksum does not match", r.stdout)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("all 1 spec.platforms installed fine", r.stdout)

    def test_a_wrong_sha256_fails_the_validator(self):
        wrong = hashlib.sha256(b"not the archive").hexdigest()
        bad = self.rendered("tracing.yaml", self.text.replace(self.field("sha256"), wrong))
        r = self.validate(bad)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("checksum does not match, want: " + wrong, r.stdout)

    def test_a_file_named_unlike_the_plugin_fails_the_validator(self):
        r = self.validate(self.rendered("trace.yaml", self.text), "-skip-install")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn('plugin should be named "trace", not "tracing"', r.stdout)

    def test_kubectl_krew_installs_the_archive_and_kubectl_runs_the_plugin(self):
        krew_root = tempfile.mkdtemp(dir=self.tmp)
        env = {"PATH": os.path.join(krew_root, "bin") + os.pathsep + self.path, "HOME": self.tmp,
               "KREW_ROOT": krew_root, "KREW_NO_UPGRADE_CHECK": "1"}
        before = len(self.server.requests)
        r = subprocess.run(
            ["kubectl", "krew", "install", "--manifest=" + self.manifest, "--archive=" + self.archive],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn('Installed plugin: tracing', r.stdout)
        self.assertIn("libcpprest2.10", r.stdout, "krew shows the caveats")
        self.assertEqual(self.server.requests[before:], [], "--archive: nothing downloaded")
        self.assertTrue(os.path.islink(os.path.join(krew_root, "bin", "kubectl-tracing")))
        # krew's record of the install (`kubectl krew list` reads receipts, but only with an index).
        with open(os.path.join(krew_root, "receipts", "tracing.yaml")) as f:
            self.assertIn("sha256: " + self.field("sha256"), f.read())
        r = subprocess.run(["kubectl", "tracing", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertTrue(r.stdout.startswith("kubectl tracing: "), r.stdout)

    def test_the_caveats_name_every_runtime_package(self):
        caveats = self.text.split("caveats: |", 1)[1].split("platforms:", 1)[0]
        named = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", caveats))
        out = subprocess.run(["ldd", KUBECTL_TRACING], check=True, stdout=subprocess.PIPE,
                             text=True).stdout
        packages = set()
        for lib in re.findall(r"=> (/\S+)", out):
            real = os.path.realpath(lib)
            candidates = [lib, real] + [p.replace("/usr/lib/", "/lib/", 1)
                                        for p in (lib, real) if p.startswith("/usr/lib/")]
            for path in candidates:
                r = subprocess.run(["dpkg", "-S", path], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
                if r.returncode == 0:
                    packages.add(r.stdout.split(":")[0])
                    break
            else:
                self.fail("no Debian package owns %s" % lib)
        self.assertGreater(len(packages), 3)
        self.assertEqual(packages - named, set(), "runtime packages missing from the caveats")


if __name__ == "__main__":
    unittest.main()
