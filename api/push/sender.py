"""One HTTP attempt at a delivery, with the safety rules of webhooks.

Only http and https; the host is resolved at every attempt and every address it has
must be public (not loopback, private, link-local, metadata, shared or reserved) unless
private targets are allowed; the request then goes to the address that was checked, so
a second DNS answer cannot redirect it. Connect and total timeouts, no redirects, and
only the first few kilobytes of the answer are read.
"""

import asyncio
import ipaddress
import socket
import time

import httpx

from api.push.options import PushOptions
from db.webhooks.queue import Outcome

USER_AGENT = "dealgraph-webhooks/1"


class UnsafeTarget(Exception):
    pass


def check_url(url: str) -> httpx.URL:
    """The URL if its form is acceptable for a webhook; UnsafeTarget saying why if not."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise UnsafeTarget(f"not a URL: {e}") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeTarget("only http and https URLs are allowed")
    if not parsed.host:
        raise UnsafeTarget("the URL has no host")
    if parsed.userinfo:
        raise UnsafeTarget("the URL must not carry credentials")
    return parsed


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # is_global leaves out loopback, RFC 1918, link-local (169.254.169.254, the cloud
    # metadata address, among them), shared (100.64/10), ULA (fd00:ec2::254) and reserved.
    return address.is_global and not address.is_multicast


async def resolve(url: httpx.URL, *, allow_private: bool) -> str:
    """An address of the URL's host that a delivery may go to."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as e:
        raise UnsafeTarget(f"{url.host} does not resolve: {e.strerror}") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not allow_private:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise UnsafeTarget(
                f"{url.host} resolves to {refused[0]}, a private, loopback, link-local or"
                " reserved address (allowed only with DEALGRAPH_WEBHOOK_ALLOW_PRIVATE=1)"
            )
    return str(addresses[0])


def client(options: PushOptions) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(options.total_timeout, connect=options.connect_timeout),
        headers={"user-agent": USER_AGENT},
    )


async def attempt(
    http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], options: PushOptions
) -> Outcome:
    started = time.perf_counter()

    def outcome(status_code: int | None, error: str | None) -> Outcome:
        return Outcome(status_code, (time.perf_counter() - started) * 1000, error)

    try:
        target = check_url(url)
        address = await resolve(target, allow_private=options.allow_private)
        pinned = target.copy_with(host=address)
        host_header = target.netloc.decode()
        async with asyncio.timeout(options.total_timeout):
            async with http.stream(
                "POST",
                pinned,
                content=body,
                headers={**headers, "content-type": "application/json", "host": host_header},
                extensions={"sni_hostname": target.host},
            ) as response:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= options.response_cap_bytes:
                        break
    except UnsafeTarget as e:
        return outcome(None, f"refused: {e}")
    except TimeoutError:
        return outcome(None, f"no answer within {options.total_timeout:g} s")
    except httpx.HTTPError as e:
        return outcome(None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
    if 300 <= response.status_code < 400:
        return outcome(response.status_code, "redirects are not followed")
    if not 200 <= response.status_code < 300:
        return outcome(response.status_code, f"HTTP {response.status_code}")
    return outcome(response.status_code, None)
