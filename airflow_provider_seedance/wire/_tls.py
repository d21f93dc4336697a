"""One TLS context for every transport the provider makes (the API's pooled clients, each download's client).

httpx builds a new ``ssl.SSLContext`` for each transport it makes with ``verify=True``, loading the whole CA
bundle every time: about 20 ms of CPU and, over thousands of downloads in one long-lived process (a triggerer
saving a batch), memory that the allocator does not give back (`python -m benchmarks.async_saves`, 1,000 saves:
+132-160 MB of RSS and about 26 s, against +28 MB and about 4 s with one context). A context is safe to share
between threads and event loops. It is the one httpx would build: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``,
else certifi's bundle; a change of those variables, or of the file they name, builds a new one.
"""

from __future__ import annotations

import os
import ssl
import threading

import certifi

_lock = threading.Lock()
_cached: tuple[tuple[object, ...], ssl.SSLContext] | None = None


def _source() -> tuple[object, ...]:
    """What httpx's default context is built from, so that a change of it is seen."""
    cafile, capath = os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")
    try:
        stamp = os.stat(cafile).st_mtime_ns if cafile else None
    except OSError:
        stamp = None
    return cafile, capath, stamp


def default_ssl_context() -> ssl.SSLContext:
    """The shared context of ``verify=True``: built once, again only when its source changed."""
    global _cached
    source = _source()
    with _lock:
        if _cached is None or _cached[0] != source:
            _cached = (source, _build(str(source[0]), str(source[1])))
        return _cached[1]


def _build(cafile: str, capath: str) -> ssl.SSLContext:
    """As httpx builds it for ``verify=True`` with ``trust_env``."""
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if capath:
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())
