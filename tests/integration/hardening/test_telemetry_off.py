"""FastAPI's own OpenTelemetry never sees a request: paths carry patient ids, and nothing
leaves the process but the audited answers (and logs through the privacy filter)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from fastapi import FastAPI
from opentelemetry import _logs, metrics, trace

from mesoscreen.bootstrap import Services
from mesoscreen.entrypoints.api import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


class _Recording(trace.TracerProvider, metrics.MeterProvider, _logs.LoggerProvider):
    """A configured provider of each kind that notes every tracer, meter and logger asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        self.asked.append("tracer")
        return trace.NoOpTracer()

    def get_meter(self, *args: Any, **kwargs: Any) -> metrics.Meter:
        self.asked.append("meter")
        return metrics.NoOpMeter("recording")

    def get_logger(self, *args: Any, **kwargs: Any) -> _logs.Logger:
        self.asked.append("logger")
        return _logs.NoOpLogger("recording")


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> _Recording:
    """The process's tracer, meter and logger provider, as an OpenTelemetry SDK or an
    agent configured from the environment would set them."""
    recording = _Recording()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: recording)
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: recording)
    monkeypatch.setattr(_logs, "get_logger_provider", lambda: recording)
    # FastAPI takes its logger through this function, which finds the provider itself.
    monkeypatch.setattr(_logs, "get_logger", lambda *args, **kwargs: recording.get_logger())
    return recording


def _visit(app: FastAPI) -> None:
    """An answer, a refusal (a path of no route in the plain app), and a request whose route
    fails (what telemetry logs)."""

    @app.get("/telemetry-test/fails")
    def fails() -> None:
        raise RuntimeError("a failure telemetry would log")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/api/v1/patients/a-patient-id?name=x").status_code in (401, 404)
        assert client.get("/telemetry-test/fails").status_code == 500


def test_a_configured_provider_is_never_asked(
    services: Services, provider: _Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nor is an exporter configured from the environment (which would need the OTLP
    exporter package, not installed: the app would fail to start)."""
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/otlp")
    _visit(create_app(services.settings, services=services))
    assert provider.asked == []


def test_a_plain_fastapi_app_would_have_asked_it(provider: _Recording) -> None:
    """The control: with FastAPI's defaults the same provider is asked, so the test above
    would see a request that reached it."""
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    _visit(app)
    assert {"tracer", "meter", "logger"} <= set(provider.asked)
