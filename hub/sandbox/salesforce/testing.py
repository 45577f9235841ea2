"""Helpers to point simple-salesforce at a plain-http sandbox."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter


class HttpsToHttpAdapter(HTTPAdapter):
    """simple-salesforce hard-codes ``https://``; this adapter sends those requests over plain http."""

    def send(self, request, **kwargs):
        if request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://"):]
        return super().send(request, **kwargs)


def http_session_for(url: str) -> requests.Session:
    """A session that reaches the sandbox at ``url`` (``http://host:port``) for ``https://host:port`` URLs.

    Usage: ``Salesforce(instance_url=url, session_id="sandbox-session", session=http_session_for(url),
    version="59.0")``.
    """
    netloc = urlsplit(url).netloc
    session = requests.Session()
    session.trust_env = False  # a proxy or CA bundle from the environment must not capture sandbox traffic
    session.mount(f"https://{netloc}", HttpsToHttpAdapter())
    return session
