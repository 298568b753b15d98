#!/usr/bin/env python3
"""Helpers the benchmark scripts share (tests/benchmarks/lib.sh calls them).

  benchlib.py metrics URL                  /metrics as "series value" lines, comments dropped
  benchlib.py idle URL WANT [waiting-ok]   exit 0 when the operator is idle: every queue empty,
                                           nothing in flight or waiting (but timed requeues of the
                                           cluster queue; with waiting-ok, of any queue), its
                                           Deployment informer holds >= WANT
  benchlib.py delta BEFORE AFTER           the counters that moved between two metrics files
  benchlib.py audit LOG OFFSET             mutating requests after byte OFFSET of the audit log,
                                           as JSON: per user and user agent, per verb and
                                           resource (refused ones apart, by code); Deployment
                                           writes per object; first and last stage timestamps
  benchlib.py latency LOG OFFSET EDITOR ANSWERER
                                           per Deployment, first write by EDITOR (an actor prefix,
                                           "user (agent)") to the first Deployment write by
                                           ANSWERER after it, on the audit log's stageTimestamps:
                                           "edited E answered A p50_ms X p99_ms Y max_ms Z"
  benchlib.py cpu PID                      utime + stime of PID in seconds
  benchlib.py rss PID                      VmRSS of PID in bytes
  benchlib.py threads PID                  "TID CPU_SECONDS" per thread
  benchlib.py busiest BEFORE AFTER [K]     the K (default 3) threads that burnt the most CPU
                                           between two `threads` files, and the total
"""
import json
import os
import sys
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime


def metrics(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "_bucket{" in line:
            continue
        series, _, value = line.rpartition(" ")
        try:
            out[series] = float(value)
        except ValueError:
            pass
    return out


def load_metrics(path):
    out = {}
    with open(path) as f:
        for line in f:
            series, _, value = line.strip().rpartition(" ")
            if series:
                out[series] = float(value)
    return out


def idle(url, want, waiting_ok=False):
    m = metrics(url)
    if m.get('tracing_operator_informer_objects{resource="deployments"}', -1) < want:
        return False
    if m.get("tracing_operator_reconciles_in_flight", 1) != 0:
        return False
    for series, value in m.items():
        if series.startswith("tracing_operator_workqueue_depth{") and value != 0:
            return False
        # The cluster queue keeps a timed requeue (the Jaeger/Dapr passes' next look).
        if (series.startswith("tracing_operator_workqueue_waiting{") and not waiting_ok
                and 'queue="cluster"' not in series and value != 0):
            return False
    return True


def audit_lines(path, offset):
    """The audit log's lines after byte `offset`. A rotated log (the API server keeps one backup)
    is read from the backup's remainder first."""
    lines = []
    size = os.path.getsize(path)
    if size < offset:
        d = os.path.dirname(path)
        backups = sorted(f for f in os.listdir(d) if f.startswith("audit-") and f.endswith(".log"))
        if backups:
            with open(os.path.join(d, backups[-1]), "rb") as f:
                f.seek(offset)
                lines += f.read().splitlines()
        offset = 0
    with open(path, "rb") as f:
        f.seek(offset)
        lines += f.read().splitlines()
    return lines


def audit(path, offset):
    """Mutating requests after `offset`."""
    lines = audit_lines(path, offset)
    by_actor = defaultdict(Counter)
    per_deployment = defaultdict(Counter)
    first, last = {}, {}
    for raw in lines:
        try:
            e = json.loads(raw)
        except ValueError:
            continue
        verb = e.get("verb")
        if verb not in ("create", "update", "patch", "delete", "deletecollection"):
            continue
        user = e.get("user", {}).get("username", "?")
        agent = e.get("userAgent", "?").split("/")[0]
        ref = e.get("objectRef", {})
        res = ref.get("resource", "?") + ("/" + ref["subresource"] if ref.get("subresource") else "")
        actor = f"{user} ({agent})"
        # A refused request (409, 422, …) is counted apart, and not as a write to its object.
        code = e.get("responseStatus", {}).get("code", 0)
        failed = code >= 300
        by_actor[actor][f"{verb} {res}" + (f" (refused {code})" if failed else "")] += 1
        ts = e.get("stageTimestamp")
        if res == "deployments" and verb in ("update", "patch") and not failed:
            per_deployment[actor][ref.get("namespace", "") + "/" + ref.get("name", "")] += 1
            if ts:
                first.setdefault(actor, ts)
                last[actor] = ts
    out = {"actors": {}}
    for actor, counts in by_actor.items():
        pd = per_deployment.get(actor, Counter())
        out["actors"][actor] = {
            "writes": sum(counts.values()),
            "by_request": dict(sorted(counts.items())),
            "deployments_written": len(pd),
            "deployment_writes": sum(pd.values()),
            "max_writes_per_deployment": max(pd.values()) if pd else 0,
            "first_deployment_write": first.get(actor),
            "last_deployment_write": last.get(actor),
        }
    return out


def actor_of(e):
    return f'{e.get("user", {}).get("username", "?")} ({e.get("userAgent", "?").split("/")[0]})'


def latency(path, offset, editor, answerer):
    """Per Deployment, from the first write (create, update, patch) by an actor whose name starts
    with `editor` to the first Deployment write by `answerer` after it, on the API server's
    clock (stageTimestamp of ResponseComplete: when each was committed and answered)."""
    edited, answered = {}, {}
    for raw in audit_lines(path, offset):
        try:
            e = json.loads(raw)
        except ValueError:
            continue
        ref = e.get("objectRef", {})
        if (ref.get("resource") != "deployments" or ref.get("subresource")
                or e.get("verb") not in ("create", "update", "patch")
                or e.get("responseStatus", {}).get("code", 0) >= 300):
            continue
        key = ref.get("namespace", "") + "/" + ref.get("name", "")
        actor = actor_of(e)
        t = ts_seconds(e["stageTimestamp"])
        if actor.startswith(editor):
            edited.setdefault(key, t)
        elif actor.startswith(answerer) and key in edited and key not in answered:
            answered[key] = t
    ds = sorted((answered[k] - edited[k]) * 1000 for k in answered)

    def rank(p):
        return ds[max(0, -(-len(ds) * p // 100) - 1)] if ds else float("nan")

    return {"edited": len(edited), "answered": len(ds), "p50_ms": round(rank(50), 1),
            "p99_ms": round(rank(99), 1), "max_ms": round(ds[-1], 1) if ds else float("nan")}


def ts_seconds(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / ticks


def threads(pid):
    out = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        out[tid] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for {pid}")


def main(argv):
    cmd = argv[1]
    if cmd == "metrics":
        for series, value in metrics(argv[2]).items():
            print(series, repr(value))
    elif cmd == "idle":
        try:
            ok = idle(argv[2], float(argv[3]), argv[4:] == ["waiting-ok"])
        except OSError:
            ok = False
        sys.exit(0 if ok else 1)
    elif cmd == "delta":
        a, b = load_metrics(argv[2]), load_metrics(argv[3])
        for series in sorted(b):
            d = b[series] - a.get(series, 0)
            if d and ("_total" in series or "_count" in series or "_sum" in series):
                print(series, round(d, 6))
    elif cmd == "audit":
        print(json.dumps(audit(argv[2], int(argv[3])), indent=1))
    elif cmd == "latency":
        r = latency(argv[2], int(argv[3]), argv[4], argv[5])
        print(" ".join(f"{k} {v}" for k, v in r.items()))
    elif cmd == "cpu":
        print(f"{cpu(argv[2]):.2f}")
    elif cmd == "threads":
        for tid, c in threads(argv[2]).items():
            print(tid, c)
    elif cmd == "busiest":
        a, b = load_metrics(argv[2]), load_metrics(argv[3])
        k = int(argv[4]) if len(argv) > 4 else 3
        d = sorted(((b[t] - a.get(t, 0), t) for t in b), reverse=True)
        total = sum(x for x, _ in d)
        top = ", ".join(f"{x:.1f} s" for x, _ in d[:k])
        print(f"{top} of {total:.1f} s in {len(d)} threads")
    elif cmd == "rss":
        print(rss(argv[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
