"""What every outbound HTTP client of a process shares: one TLS context, and httpx's request
log lines without their query strings (ours carry identities)."""

from __future__ import annotations

import functools
import logging
import ssl

import httpx


class RedactQueryStrings(logging.Filter):
    """httpx logs every request's full URL at INFO: our query strings carry identities.
    Keep its log line, without the query string, whatever level the application sets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


def redact_httpx_query_strings() -> None:
    """Install the filter on httpx's logger, once per process."""
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, RedactQueryStrings) for f in httpx_log.filters):
        httpx_log.addFilter(RedactQueryStrings())


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One per process, shared by every client: loading the CA bundle costs tens of
    milliseconds each time."""
    return httpx.create_ssl_context()
