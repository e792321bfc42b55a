"""Whether a request comes from a browser on this machine: the demo key's only audience.

Both the peer and the Host header must be loopback. The peer alone is not enough: a page
from elsewhere can point its own domain name at 127.0.0.1 (DNS rebinding) and read our
pages as same-origin, but its requests then carry that domain in Host. And a request that
came through a proxy (it carries a forwarding header) is never local: behind a proxy on
this machine the peer is the proxy, whoever is behind it, and a header a client can write
must not hand out a key.
"""

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request

LOOPBACK_NAMES = frozenset({"localhost"})
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def is_loopback_name(host: str) -> bool:
    """`host` is a Host header's value: a name or address, with a port or without."""
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return False
    if name is None:
        return False
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_local_browser(request: Request) -> bool:
    if request.client is None or any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    try:
        peer_is_loopback = ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False
    return peer_is_loopback and is_loopback_name(request.headers.get("host", ""))
