"""A tiny app instrumented with the OpenTelemetry Python SDK and configured only by its
environment (the OTEL_* variables the operator wrote): it records N traces of one span each,
exports them with the exporter the SDK's own env configuration selects, and exits.

    python send_traces.py N      prints {"started": N, "sampled": K} (K: the SDK's sampler decisions)
"""
import json
import sys

from opentelemetry.sdk._configuration import _get_exporter_names, _import_exporters
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def main() -> None:
    n = int(sys.argv[1])
    provider = TracerProvider(resource=Resource.create())  # sampler from OTEL_TRACES_SAMPLER(_ARG)
    exporters, _, _ = _import_exporters(_get_exporter_names("traces"), [], [])
    for exporter_class in exporters.values():
        provider.add_span_processor(BatchSpanProcessor(exporter_class()))
    tracer = provider.get_tracer("send_traces")
    sampled = 0
    for i in range(n):
        with tracer.start_as_current_span(f"request-{i}") as span:
            sampled += span.get_span_context().trace_flags.sampled
    provider.shutdown()  # flushes the batch
    print(json.dumps({"started": n, "sampled": sampled}))


if __name__ == "__main__":
    main()
