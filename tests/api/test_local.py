"""The demo key reaches a browser on this machine only (api/guard/local.py): GraphiQL's
headers and /docs' Authorize come filled in when the peer and the Host header are both
loopback and no proxy stands between; never for another peer, a rebound domain name or a
forwarded request."""

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.guard.keys import SECRET_PREFIX
from api.guard.local import is_loopback_name
from tests.contract.live import serving

DEMO = SECRET_PREFIX + "d" * 43

CASES = {
    "ipv4 with port": (("127.0.0.1", "127.0.0.1:8000", {}), True),
    "ipv4 without port": (("127.0.0.1", "127.0.0.1", {}), True),
    "localhost": (("127.0.0.1", "localhost:8000", {}), True),
    "ipv6": (("::1", "[::1]:8000", {}), True),
    "another machine": (("203.0.113.7", "127.0.0.1:8000", {}), False),
    "a rebound domain name": (("127.0.0.1", "attacker.example:8000", {}), False),
    "a subdomain of a loopback name": (("127.0.0.1", "localhost.attacker.example", {}), False),
    "a malformed host": (("127.0.0.1", "[::1:8000", {}), False),
    "no host": (("127.0.0.1", "", {}), False),
    "forwarded for loopback": (("127.0.0.1", "localhost", {"x-forwarded-for": "127.0.0.1"}), False),
    "forwarded (RFC 7239)": (("127.0.0.1", "localhost", {"forwarded": "for=127.0.0.1"}), False),
    "x-real-ip": (("127.0.0.1", "localhost", {"x-real-ip": "127.0.0.1"}), False),
}


async def _pages(peer: str, host: str, headers: dict[str, str], db_url: str) -> tuple[str, str]:
    app = create_app(db_url, pool_min_size=1, demo_key=DEMO)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://any") as browser:
            sent = {"accept": "text/html", "host": host, **headers}
            graphiql = await browser.get("/graphql", headers=sent)
            docs = await browser.get("/docs", headers=sent)
    assert graphiql.status_code == docs.status_code == 200
    return graphiql.text, docs.text


@pytest.mark.parametrize(("request_", "filled_in"), CASES.values(), ids=CASES.keys())
async def test_the_demo_key_goes_to_a_local_browser_only(
    db_url: str, request_: tuple[str, str, dict[str, str]], filled_in: bool
) -> None:
    graphiql, docs = await _pages(*request_, db_url)
    assert (f'\\"Authorization\\": \\"Bearer {DEMO}\\"' in graphiql) is filled_in
    assert (f'"key":"{DEMO}"' in docs) is filled_in
    # Either way the page is whole, and no key of any kind is in it otherwise.
    assert 'organization(slug: \\"openai\\")' in graphiql
    assert filled_in or SECRET_PREFIX not in graphiql + docs


@pytest.mark.parametrize(
    ("forwarded_for", "filled_in"), [(None, True), ("127.0.0.1", False), ("203.0.113.7", False)]
)
def test_behind_uvicorn_proxy_headers_a_forwarded_request_is_never_local(
    db_url: str, forwarded_for: str | None, filled_in: bool
) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default and makes it the client's
    address: a proxy on this machine forwarding a request from elsewhere, or a client
    writing the header itself, must not get the key."""
    headers = {"accept": "text/html"}
    if forwarded_for is not None:
        headers["x-forwarded-for"] = forwarded_for
    with serving(create_app(db_url, pool_min_size=1, demo_key=DEMO)) as url:
        page = httpx.get(f"{url}/graphql", headers=headers).text
    assert (f"Bearer {DEMO}" in page) is filled_in


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2:80", True),
        ("LOCALHOST:8000", True),
        ("[::1]", True),
        ("0.0.0.0:8000", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_loopback_names(host: str, loopback: bool) -> None:
    assert is_loopback_name(host) is loopback
