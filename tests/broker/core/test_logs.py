"""Structured logs: one JSON object per line, carrying the request id."""

from __future__ import annotations

import json
import logging

from broker.core.logs import JsonFormatter, request_id_var


def test_json_lines_carry_the_request_id_and_extra_fields():
    record = logging.LogRecord("broker.access", logging.INFO, __file__, 1, "request", None, None)
    record.status = 303
    record.color_message = "\x1b[1mnoise\x1b[0m"
    token = request_id_var.set("req-12345678")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["event"] == "request" and entry["level"] == "info"
    assert entry["request_id"] == "req-12345678" and entry["status"] == 303
    assert "color_message" not in entry and "\n" not in line
