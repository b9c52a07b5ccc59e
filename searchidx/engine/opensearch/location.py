"""Where an OpenSearch index is: ``opensearch://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/NAME``.

``opensearch://`` and ``http://`` speak plain HTTP; ``opensearchs://`` and ``https://`` speak
TLS, with the server's certificate verified (``SEARCHIDX_OPENSEARCH_CA`` names a CA bundle).
Credentials come from the URL or from ``SEARCHIDX_OPENSEARCH_USER`` and
``SEARCHIDX_OPENSEARCH_PASSWORD``; they are never part of what a location prints.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from ...errors import SearchIdxError
from ...settings import (OPENSEARCH_RETRIES, OPENSEARCH_TIMEOUT_SECONDS)

SCHEMES = {"opensearch": False, "http": False, "opensearchs": True, "https": True}
"""Each URL scheme that names an OpenSearch index, and whether it uses TLS."""
_URL = re.compile(r"^(?P<scheme>[a-z]+)://(?:(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@)?"
                  r"(?P<hosts>[^/@]+)/(?P<name>[^/?#]+)/?$")
# OpenSearch's own rule for index names (lower case, no \ / * ? " < > | , # : or space).
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
INSTALL_HINT = "pip install 'searchidx[opensearch]'"


class ClusterUnavailable(SearchIdxError):
    """An OpenSearch index cannot be used: opensearch-py is missing, the URL is wrong, or
    the cluster does not answer (the message says which, never a password)."""


def is_cluster_url(location: object) -> bool:
    """Whether ``location`` names an index on a cluster rather than a folder."""
    scheme, separator, _ = str(location).partition("://")
    return bool(separator) and scheme.lower() in SCHEMES


@dataclass(frozen=True)
class ClusterLocation:
    """A parsed cluster URL. ``str()`` gives it without credentials."""

    hosts: tuple[tuple[str, int], ...]
    name: str
    tls: bool
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, url: str) -> ClusterLocation:
        """Raise :class:`ClusterUnavailable` (without the password) for a malformed URL."""
        match = _URL.match(url.strip())
        scheme = match["scheme"].lower() if match else ""
        if not match or scheme not in SCHEMES:
            raise ClusterUnavailable(
                f"not an OpenSearch index URL: {_without_password(url)} "
                "(expected opensearch://HOST:PORT/NAME)")
        name = unquote(match["name"])
        if not _INDEX_NAME.match(name):
            raise ClusterUnavailable(f"{name!r} is not an OpenSearch index name (lower-case "
                                     "letters, digits, '-', '_', '.', '+')")
        user = unquote(match["user"]) if match["user"] else os.environ.get(
            "SEARCHIDX_OPENSEARCH_USER")
        password = unquote(match["password"]) if match["password"] is not None else (
            os.environ.get("SEARCHIDX_OPENSEARCH_PASSWORD"))
        tls = SCHEMES[scheme]
        return cls(tuple(_host(part, tls, url) for part in match["hosts"].split(",")), name,
                   tls, user or None, password)

    def __str__(self) -> str:
        scheme = "opensearchs" if self.tls else "opensearch"
        hosts = ",".join(f"{host}:{port}" for host, port in self.hosts)
        return f"{scheme}://{hosts}/{self.name}"

    def client(self):
        """An opensearch-py client for every host given, retrying a failed request on
        another node (and on 429/502/503/504) before giving up."""
        try:
            from opensearchpy import OpenSearch
        except ImportError:
            raise ClusterUnavailable(
                f"{self} is an OpenSearch index, and opensearch-py is not installed: "
                f"{INSTALL_HINT}") from None
        options = {}
        if self.user is not None:
            options["http_auth"] = (self.user, self.password or "")
        if self.tls and os.environ.get("SEARCHIDX_OPENSEARCH_CA"):
            options["ca_certs"] = os.environ["SEARCHIDX_OPENSEARCH_CA"]
        return OpenSearch(
            [{"host": host, "port": port} for host, port in self.hosts],
            use_ssl=self.tls, verify_certs=True, ssl_show_warn=True,
            timeout=OPENSEARCH_TIMEOUT_SECONDS, max_retries=OPENSEARCH_RETRIES,
            retry_on_timeout=True, retry_on_status=(429, 502, 503, 504), **options)


def _host(part: str, tls: bool, url: str) -> tuple[str, int]:
    host, separator, port = part.strip().rpartition(":")
    if not separator:
        host, port = port, ("443" if tls else "9200")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterUnavailable(f"not a HOST:PORT in {_without_password(url)}: {part!r}")
    return host, int(port)


def _without_password(url: str) -> str:
    """``url`` with any credentials in it replaced, for a message."""
    return re.sub(r"//[^/@]*@", "//***@", url)
