"""What `dealgraph keys ...` and `dealgraph serve` say about keys, on a database URL."""

import datetime
from pathlib import Path

import asyncpg
import click

from api.guard.keys import ensure_demo_key, issue_key
from db.access.keys import ApiKey, list_keys, revoke_key
from db.access.principal import Scope


def _when(at: datetime.datetime | None) -> str:
    return "never" if at is None else at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _limit(key: ApiKey, default_per_minute: int) -> str:
    if key.rate_limit_per_minute is None:
        return f"{default_per_minute}/min (default)"
    return f"{key.rate_limit_per_minute}/min"


async def create(
    url: str,
    *,
    name: str,
    scope: Scope,
    rate_limit: int | None,
    source_kinds: tuple[str, ...] | None = None,
    default_per_minute: int,
) -> None:
    conn = await asyncpg.connect(url)
    try:
        issued = await issue_key(
            conn,
            name=name,
            scope=scope,
            rate_limit_per_minute=rate_limit,
            source_kinds=source_kinds,
        )
    finally:
        await conn.close()
    key = issued.key
    click.echo(
        f"created key {key.id} {key.name!r}: scope {key.scope}, {_limit(key, default_per_minute)},"
        f" may record {','.join(key.source_kinds)}"
    )
    click.echo("its secret follows; it is shown this once and stored nowhere:")
    click.echo(issued.secret)


async def list_all(url: str, *, default_per_minute: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        keys = await list_keys(conn)
    finally:
        await conn.close()
    if not keys:
        click.echo("no keys yet: `dealgraph keys create --name N --scope read` makes one", err=True)
    for key in keys:
        state = "active" if key.revoked_at is None else f"revoked {_when(key.revoked_at)}"
        click.echo(
            f"{key.id}  {key.secret_prefix}…  {key.scope:<5}  {_limit(key, default_per_minute)}"
            f"  {state}  created {_when(key.created_at)}  last used {_when(key.last_used_at)}"
            f"  sources {','.join(key.source_kinds)}  {key.name}"
        )


def _named(keys: list[ApiKey], name: str) -> ApiKey:
    """The key `name` designates: its id, or a unique start of the id or of the secret as
    `keys list` shows them (with or without the ellipsis)."""
    name = name.strip().removesuffix("…").lower()
    if len(name) < 4:
        raise click.ClickException(
            f"{name!r} is too short to name a key: give at least 4 characters of its id"
        )
    exact = [k for k in keys if str(k.id) == name]
    found = exact or [
        k for k in keys if str(k.id).startswith(name) or k.secret_prefix.lower().startswith(name)
    ]
    if not found:
        raise click.ClickException(f"no key matches {name!r}; `dealgraph keys list` shows them")
    if len(found) > 1:
        candidates = ", ".join(f"{k.id} ({k.name!r})" for k in found)
        raise click.ClickException(
            f"{name!r} matches {len(found)} keys: {candidates}; give more of the id"
        )
    return found[0]


async def revoke(url: str, *, key: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        named = _named(await list_keys(conn), key)
        revoked = await revoke_key(conn, key_id=named.id)
    finally:
        await conn.close()
    if revoked is None:
        raise click.ClickException(f"key {named.id} was deleted meanwhile")
    assert revoked.revoked_at is not None
    click.echo(f"key {revoked.id} {revoked.name!r} is revoked since {_when(revoked.revoked_at)}")


async def demo_key(url: str, data_dir: Path) -> str | None:
    """The embedded default's demo key, made on the first start; said aloud every start."""
    conn = await asyncpg.connect(url)
    try:
        demo = await ensure_demo_key(conn, data_dir)
    finally:
        await conn.close()
    if demo.secret is None:
        click.echo(
            "The demo API key was revoked; `dealgraph keys create --name me --scope write` "
            "makes another."
        )
        return None
    made = "made a demo API key" if demo.created else "the demo API key"
    click.echo(f"{made} (scope write; GraphiQL and /docs on this machine have it filled in):")
    click.echo(demo.secret)
    return demo.secret
