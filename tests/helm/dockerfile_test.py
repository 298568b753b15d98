"""The Dockerfile, without a container engine: hadolint finds nothing, the build stage installs
scripts/build's packages, and the runtime stage installs exactly the Debian packages of the shared
libraries the real binary links (ldd → file → dpkg -S), plus ca-certificates."""

import os
import re
import shutil
import unittest
from pathlib import Path

from helmtest import BUILD_DIR, ROOT, main, run

DOCKERFILE = ROOT / "Dockerfile"
BINARY = BUILD_DIR / "bin" / "tracing-operator"


def stages():
    """The Dockerfile's stages as (FROM line, [instructions]), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append((line, []))
        elif result:
            result[-1][1].append(line)
    return result


def apt_installed(instructions):
    """Packages a stage's RUN instructions apt-get install."""
    pkgs = set()
    for ins in instructions:
        if not ins.upper().startswith("RUN "):
            continue
        for cmd in re.split(r"&&|;", ins[4:]):
            words = cmd.split()
            if "apt-get" in words and "install" in words:
                after = words[words.index("install") + 1:]
                pkgs |= {w for w in after if not w.startswith("-")}
    return pkgs


def package_of(lib):
    """The Debian package that ships lib, trying the path as given and as resolved (merged /usr)."""
    real = os.path.realpath(lib)
    candidates = [lib, real]
    for p in (lib, real):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib"):
            candidates.append("/usr" + p)
    for c in candidates:
        r = run(["dpkg", "-S", c], check=False)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"no Debian package ships {lib} (dpkg -S)")


def debian_codename():
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return ""


class Dockerfile(unittest.TestCase):
    def test_hadolint_finds_nothing(self):
        hadolint = shutil.which("hadolint")
        self.assertIsNotNone(hadolint, "hadolint missing: run through tests/helm/run")
        r = run([hadolint, "--no-color", str(DOCKERFILE)], check=False)
        self.assertEqual(r.returncode, 0, f"hadolint:\n{r.stdout}{r.stderr}")

    def test_two_stages_on_bookworm_running_as_65532(self):
        (build_from, _), (runtime_from, runtime) = stages()
        self.assertRegex(build_from, r"^FROM debian:bookworm AS build$")
        self.assertEqual(runtime_from, "FROM debian:bookworm-slim")
        users = [i.split()[1] for i in runtime if i.upper().startswith("USER ")]
        self.assertEqual(users[-1].split(":")[0], "65532")
        copies = [i for i in runtime if i.upper().startswith("COPY ")]
        self.assertEqual(len(copies), 1, "the runtime stage copies the binary and nothing else")
        self.assertIn("--from=build", copies[0])

    def test_build_stage_installs_the_packages_of_scripts_build(self):
        script = (ROOT / "scripts" / "build").read_text()
        m = re.search(r"^PACKAGES=\((.*?)\)", script, re.S | re.M)
        self.assertIsNotNone(m, "PACKAGES=(…) not found in scripts/build")
        want = set(m.group(1).split())
        (_, build), _ = stages()
        got = apt_installed(build)
        self.assertEqual(got, want, f"missing: {sorted(want - got)}; extra: {sorted(got - want)}")

    def test_runtime_stage_installs_the_packages_of_every_linked_library_and_nothing_else(self):
        self.assertTrue(BINARY.exists(), f"{BINARY} missing: scripts/build builds it")
        (build_from, _), _ = stages()
        codename = debian_codename()
        self.assertEqual(
            codename, "bookworm",
            f"this machine runs Debian {codename!r}, the image {build_from.split()[1]}: the library "
            "packages ldd finds here are not the image's; run this test on bookworm")
        libs = []
        for line in run(["ldd", str(BINARY)]).stdout.splitlines():
            m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
            if m:
                libs.append(m.group(1))
            elif "=>" in line and "not found" in line:
                self.fail(f"ldd: {line.strip()}")
        self.assertTrue(libs)
        want = {package_of(lib) for lib in libs} | {"ca-certificates"}
        _, (_, runtime) = stages()
        got = apt_installed(runtime)
        self.assertEqual(got, want, f"missing: {sorted(want - got)}; not needed: {sorted(got - want)}")


if __name__ == "__main__":
    main()
