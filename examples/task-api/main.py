"""The Task API: a small FastAPI app whose `POST /tasks` validates a task, saves it through its
Dapr sidecar's state API and is slow on purpose. Its tracing is configured only by its
environment — the OTEL_* variables the operator writes — and by nothing in this file:

- the OpenTelemetry SDK picks sampler, exporter, resource and propagators from OTEL_*;
- FastAPI is auto-instrumented (the server span `POST /tasks`), and so is `requests`, so the call
  to the sidecar carries the trace context (`traceparent`) and daprd's spans join the trace;
- one custom span, `validate-task`, around the validation step, and one, `enrich-task`, around a
  fixed sleep of TASK_API_DELAY_SECONDS (default 3): the slow hop a trace should point at.

    uvicorn main:app --port $APP_PORT        (DAPR_HTTP_PORT: the sidecar's HTTP port, default 3500;
                                              TASK_API_STATE_STORE: the state store, default statestore)

The response carries the request's trace id and whether the SDK sampled it.
"""
import contextlib
import os
import time
import uuid

import requests
from fastapi import FastAPI, HTTPException
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk._configuration import _get_exporter_names, _import_exporters
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

DELAY_SECONDS = float(os.environ.get("TASK_API_DELAY_SECONDS", "3"))
DAPR_HTTP_PORT = os.environ.get("DAPR_HTTP_PORT", "3500")
STATE_STORE = os.environ.get("TASK_API_STATE_STORE", "statestore")

# Sampler from OTEL_TRACES_SAMPLER(_ARG), resource from OTEL_SERVICE_NAME and
# OTEL_RESOURCE_ATTRIBUTES, exporter from OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_*,
# propagators from OTEL_PROPAGATORS (read by opentelemetry.propagate at import).
provider = TracerProvider(resource=Resource.create())
exporters, _, _ = _import_exporters(_get_exporter_names("traces"), [], [])
for exporter_class in exporters.values():
    provider.add_span_processor(BatchSpanProcessor(exporter_class()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("task-api")
RequestsInstrumentor().instrument()


@contextlib.asynccontextmanager
async def lifespan(_app):
    yield
    provider.shutdown()  # a rollout's SIGTERM: flush what the batch holds


app = FastAPI(lifespan=lifespan)
FastAPIInstrumentor.instrument_app(app)


def validate(task: dict) -> dict:
    with tracer.start_as_current_span("validate-task") as span:
        title = task.get("title")
        if not isinstance(title, str) or not title.strip():
            span.set_attribute("task.valid", False)
            raise HTTPException(status_code=422, detail="a task needs a non-empty title")
        span.set_attribute("task.valid", True)
        return {"id": str(uuid.uuid4()), "title": title.strip(), "done": bool(task.get("done"))}


@app.post("/tasks", status_code=201)
def create_task(task: dict) -> dict:
    saved = validate(task)
    with tracer.start_as_current_span("enrich-task") as span:
        span.set_attribute("task.delay_seconds", DELAY_SECONDS)
        time.sleep(DELAY_SECONDS)  # the slow hop, on purpose
    r = requests.post(
        f"http://127.0.0.1:{DAPR_HTTP_PORT}/v1.0/state/{STATE_STORE}",
        json=[{"key": saved["id"], "value": saved}],
        timeout=10,
    )
    if r.status_code != 204:
        raise HTTPException(status_code=502, detail=f"state save: {r.status_code} {r.text}")
    context = trace.get_current_span().get_span_context()
    saved["trace_id"] = format(context.trace_id, "032x")
    saved["sampled"] = context.trace_flags.sampled
    return saved


@app.get("/tasks/{task_id}")
def get_task(task_id: str) -> dict:
    r = requests.get(
        f"http://127.0.0.1:{DAPR_HTTP_PORT}/v1.0/state/{STATE_STORE}/{task_id}", timeout=10
    )
    if r.status_code == 204:
        raise HTTPException(status_code=404, detail="no such task")
    r.raise_for_status()
    return r.json()


@app.get("/healthz")
def healthz() -> dict:
    return {"ok": True}
