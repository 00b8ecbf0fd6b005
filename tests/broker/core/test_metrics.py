"""Metrics: bounded labels, cheap updates, and the sum over several worker processes."""

from __future__ import annotations

import os
import subprocess
import sys

from prometheus_client import REGISTRY

from broker.core import metrics


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_reasons_are_folded_into_a_bounded_set():
    assert metrics.bounded_reason("access_denied") == "access_denied"
    assert metrics.bounded_reason("Access Denied<script>") == "other"
    assert metrics.bounded_reason("x" * 80) == "other"
    assert metrics.bounded_reason(None) == "other"


def test_label_children_are_looked_up_once():
    children = metrics.Children(metrics.PROVIDER_CALLS)
    assert children("test-provider", "reply") is children("test-provider", "reply")


def test_domain_counters():
    before = sample("broker_flows_failed_total", reason="other")
    metrics.flow_failed("Not a code!")
    assert sample("broker_flows_failed_total", reason="other") == before + 1
    before = sample("broker_consents_total", event="withdrawn")
    metrics.consent_event("withdrawn", 2)
    metrics.consent_event("withdrawn", 0)
    assert sample("broker_consents_total", event="withdrawn") == before + 2
    metrics.provider_call("test-provider", "timeout", 6.0)
    assert sample("broker_provider_calls_total", provider="test-provider", outcome="timeout") >= 1
    assert (
        sample("broker_provider_call_duration_seconds_bucket", provider="test-provider", le="10.0")
        >= 1
    )
    metrics.outbox_backlog(3, -5)
    assert sample("broker_consent_events_pending") == 3
    assert sample("broker_consent_events_oldest_pending_age_seconds") == 0


WORKER = """
from broker.core.metrics import RequestMetrics
RequestMetrics("broker").observe("/token", "POST", 200, 0.01)
"""
SCRAPE = """
from broker.core.metrics import exposition
body, _ = exposition("text/plain")
print(body.decode())
"""


def test_several_worker_processes_are_added_up(tmp_path):
    env = {**os.environ, metrics.MULTIPROCESS_DIR_ENV: str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, timeout=60)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    assert (
        'http_requests_total{app="broker",method="POST",route="/token",status="200"} 2.0' in scraped
    )
