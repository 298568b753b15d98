#!/usr/bin/env python3
"""Builds what an app using the OpenTelemetry Python SDK's standard env configuration would build
from the OTEL_* variables in os.environ, and prints ONE JSON object describing the SDK's own
objects (sampler, resource, propagators, trace exporter). It reads nothing but the environment,
exports nothing, and shuts everything it built down.

Run it with the venv from scripts/otel-venv:  env -i OTEL_...=... <venv python> sdk_probe.py

Output keys (stdout, one line):
  sampler            TracerProvider().sampler.get_description()
  sampler_class      type name of that sampler (ParentBasedTraceIdRatio, TraceIdRatioBased, StaticSampler, ...)
  ratio              float: the TraceIdRatioBased rate (ParentBased root's, or the sampler's own); null otherwise
  resource           Resource.create().attributes (OTEL_RESOURCE_ATTRIBUTES + OTEL_SERVICE_NAME, decoded)
  propagators        class names in the global composite propagator, in order
  propagator_fields  sorted union of those propagators' .fields
  exporter           null when OTEL_TRACES_EXPORTER is unset or "none"; else the first trace exporter:
                     {name, exporter_class (module-qualified), endpoint, insecure (gRPC only, else null)}
  exporters          every trace exporter selected, same shape
  warnings           "LEVEL logger: message" for every SDK log record at WARNING or above
  errors             {section: "Type: message"} for a section the SDK refused to build (e.g. an
                     unknown propagator or OTLP protocol); that section is then null
"""

import json
import logging
import os
import sys

WARNINGS = []


class _Collect(logging.Handler):
    def emit(self, record):
        WARNINGS.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def _setup_logging():
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    root.addHandler(_Collect(logging.WARNING))
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("sdk_probe: %(levelname)s %(name)s: %(message)s"))
    root.addHandler(stderr)


def _err(exc):
    return f"{type(exc).__name__}: {exc}"


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return str(value)


def probe_sampler(out):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider()  # reads OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG itself
    try:
        sampler = provider.sampler
        out["sampler"] = sampler.get_description()
        out["sampler_class"] = type(sampler).__name__
        ratio = None
        if isinstance(sampler, TraceIdRatioBased):
            ratio = sampler.rate
        elif isinstance(sampler, ParentBased) and isinstance(sampler._root, TraceIdRatioBased):
            ratio = sampler._root.rate
        out["ratio"] = None if ratio is None else float(ratio)
    finally:
        provider.shutdown()


def probe_resource(out):
    from opentelemetry.sdk.resources import Resource

    attrs = Resource.create().attributes
    out["resource"] = {str(k): _jsonable(v) for k, v in attrs.items()}


def probe_propagators(out):
    # The global propagator is built from OTEL_PROPAGATORS when this module is first imported.
    from opentelemetry import propagate
    from opentelemetry.propagators.composite import CompositePropagator

    textmap = propagate.get_global_textmap()
    members = textmap._propagators if isinstance(textmap, CompositePropagator) else [textmap]
    out["propagators"] = [type(p).__name__ for p in members]
    fields = set()
    for p in members:
        fields |= set(p.fields)
    out["propagator_fields"] = sorted(fields)


def probe_exporters(out):
    # As opentelemetry-instrument does: names from OTEL_TRACES_EXPORTER (+ OTEL_EXPORTER_OTLP_*PROTOCOL
    # for "otlp"), classes from the opentelemetry_traces_exporter entry points.
    from opentelemetry.sdk._configuration import _get_exporter_names, _import_exporters

    names = _get_exporter_names("traces")
    trace_exporters, _, _ = _import_exporters(names, [], [])
    reports = []
    for name, cls in trace_exporters.items():
        exporter = cls()  # reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT / _INSECURE itself
        try:
            insecure = getattr(exporter, "_insecure", None)  # gRPC exporters only
            reports.append(
                {
                    "name": name,
                    "exporter_class": f"{cls.__module__}.{cls.__qualname__}",
                    "endpoint": getattr(exporter, "_endpoint", None),
                    "insecure": None if insecure is None else bool(insecure),
                }
            )
        finally:
            exporter.shutdown()
    out["exporters"] = reports
    out["exporter"] = reports[0] if reports else None


def main():
    _setup_logging()
    out = {
        "sampler": None,
        "sampler_class": None,
        "ratio": None,
        "resource": None,
        "propagators": None,
        "propagator_fields": None,
        "exporter": None,
        "exporters": None,
    }
    errors = {}
    for section, fn in (
        ("sampler", probe_sampler),
        ("resource", probe_resource),
        ("propagators", probe_propagators),
        ("exporter", probe_exporters),
    ):
        try:
            fn(out)
        except Exception as exc:  # report what the SDK refused, keep probing the rest
            errors[section] = _err(exc)
            logging.getLogger("sdk_probe").debug("section %s failed", section, exc_info=True)
    out["warnings"] = WARNINGS
    out["errors"] = errors
    sys.stdout.write(json.dumps(out, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
