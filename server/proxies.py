"""X-Forwarded-* headers, believed only from the proxies we were told about.

Werkzeug's ProxyFix believes the last `TRUSTED_PROXIES` entries of X-Forwarded-For from
whoever sends them. If gunicorn can also be reached directly (a firewall rule forgotten,
a port left open), a client could then name any address it likes and escape every
per-address limit. So the headers count only on a request whose peer is one of
`TRUSTED_PROXY_ADDRESSES` (the proxies' own addresses or networks; by default this host
only); from anyone else they are removed before the application sees them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
)


def parse_networks(setting: str | Iterable[str]) -> list[Network]:
    """Addresses or networks, comma-separated (or a list); ValueError names a bad one."""
    items = setting.split(",") if isinstance(setting, str) else list(setting)
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXY_ADDRESSES: {item!r} is not an address or network") from None
    return networks


class TrustedProxyFix:
    """ProxyFix for requests from a trusted proxy; forwarded headers dropped otherwise."""

    def __init__(self, app: Callable[..., Any], hops: int, proxies: list[Network]) -> None:
        self.plain = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.proxies = proxies

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.proxies)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR") or ""):
            return self.fixed(environ, start_response)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.plain(environ, start_response)
