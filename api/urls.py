"""The server's own absolute URLs (``Location``, a Bundle's ``fullUrl`` and paging links, the
CapabilityStatement's address), built from the configured base URL, or the address the
server listens on, and never from the request's ``Host`` header: a client sending
``Host: evil.example`` must not make the server hand others links to evil.example."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def public_base(request: Request) -> str:
    """The server's root URL, ending in ``/``: ``Settings.base_url``, else the scheme and
    the socket address this worker accepted the connection on."""
    configured: str | None = request.app.state.settings.base_url
    if configured:
        return configured.rstrip("/") + "/"
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    scheme = request.scope.get("scheme", "http")
    default = {"http": 80, "https": 443}.get(scheme)
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"{scheme}://{shown}/" if port in (None, default) else f"{scheme}://{shown}:{port}/"


def public_url(request: Request, path: str, query: str = "") -> str:
    """``path`` (from the root, with or without its ``/``) under the public base."""
    url = public_base(request) + path.lstrip("/")
    return f"{url}?{query}" if query else url


def route_url(request: Request, name: str, **params: Any) -> str:
    """A named route's public URL (what ``request.url_for`` gives, without trusting ``Host``)."""
    return public_url(request, request.app.url_path_for(name, **params))


def this_url(request: Request) -> str:
    """The request's own URL (path and query) under the public base."""
    return public_url(request, request.url.path, request.url.query)
