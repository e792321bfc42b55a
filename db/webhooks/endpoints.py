"""Webhook endpoints: made, read, changed and removed by the key that owns them."""

import datetime
import uuid
from dataclasses import dataclass

from db.infra.pagination import Keyset, Page, PageRequest, build_page
from db.infra.types import Executor, Record


@dataclass(frozen=True, slots=True)
class EndpointFilter:
    # Public ids: "org_…" for the company, "org_…" or "per_…" for the investor.
    company: str | None = None
    investor: str | None = None
    round_type: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: uuid.UUID
    api_key_id: uuid.UUID
    url: str
    events: list[str]
    filter: EndpointFilter
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime.datetime | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @classmethod
    def from_record(cls, r: Record) -> "Endpoint":
        return cls(
            id=r["id"],
            api_key_id=r["api_key_id"],
            url=r["url"],
            events=list(r["events"]),
            filter=EndpointFilter(
                r["filter_company"],
                r["filter_investor"],
                r["filter_round_type"],
                r["filter_status"],
            ),
            secret=r["secret"],
            previous_secret=r["previous_secret"],
            previous_secret_expires_at=r["previous_secret_expires_at"],
            enabled=r["enabled"],
            disabled_reason=r["disabled_reason"],
            failing_since=r["failing_since"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )

    def signing_secrets(self, now: datetime.datetime) -> list[str]:
        """The current secret, and the previous one while its overlap lasts."""
        if (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > now
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


_COLUMNS = """
    id, api_key_id, url, events, filter_company, filter_investor,
    filter_round_type::text, filter_status::text, secret, previous_secret,
    previous_secret_expires_at, enabled, disabled_reason, failing_since, created_at, updated_at
"""


async def insert_endpoint(
    db: Executor,
    *,
    api_key_id: uuid.UUID,
    url: str,
    events: list[str],
    filter: EndpointFilter,
    secret: str,
) -> Endpoint:
    record = await db.fetchrow(
        f"""
        insert into webhook_endpoints (api_key_id, url, events, filter_company,
            filter_investor, filter_round_type, filter_status, secret)
        values ($1, $2, $3, $4, $5, $6::round_type, $7::deal_status, $8)
        returning {_COLUMNS}
        """,
        api_key_id,
        url,
        events,
        filter.company,
        filter.investor,
        filter.round_type,
        filter.status,
        secret,
    )
    assert record is not None
    return Endpoint.from_record(record)


async def fetch_endpoint(
    db: Executor, endpoint_id: uuid.UUID, *, owner: uuid.UUID | None
) -> Endpoint | None:
    """The endpoint, if `owner` made it (None: whoever did, for admin keys)."""
    record = await db.fetchrow(
        f"""
        select {_COLUMNS} from webhook_endpoints
        where id = $1 and ($2::uuid is null or api_key_id = $2)
        """,
        endpoint_id,
        owner,
    )
    return None if record is None else Endpoint.from_record(record)


ENDPOINTS_SCOPE = "webhook_endpoints"


async def list_endpoints(
    db: Executor, *, owner: uuid.UUID | None, page: PageRequest
) -> Page[Endpoint]:
    """Oldest first; `owner` None lists every key's endpoints."""
    sort_key, after_id = page.cursor_args
    records = await db.fetch(
        f"""
        select {_COLUMNS} from webhook_endpoints
        where ($1::uuid is null or api_key_id = $1)
          and ($2::timestamptz is null or (created_at, id) > ($2::timestamptz, $3::uuid))
        order by created_at, id
        limit $4
        """,
        owner,
        None if sort_key is None else datetime.datetime.fromisoformat(sort_key),
        after_id,
        page.fetch_limit,
    )
    found = [Endpoint.from_record(r) for r in records]
    return build_page(
        ENDPOINTS_SCOPE, page, [(e, Keyset(e.created_at.isoformat(), e.id)) for e in found]
    )


async def list_enabled_endpoints(db: Executor) -> list[Endpoint]:
    records = await db.fetch(
        f"select {_COLUMNS} from webhook_endpoints where enabled order by created_at, id"
    )
    return [Endpoint.from_record(r) for r in records]


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """What a PATCH may change; None leaves a field as it is."""

    url: str | None = None
    events: list[str] | None = None
    filter: EndpointFilter | None = None
    enabled: bool | None = None


async def update_endpoint(
    db: Executor, endpoint_id: uuid.UUID, *, owner: uuid.UUID | None, changes: EndpointChanges
) -> Endpoint | None:
    f = changes.filter
    record = await db.fetchrow(
        f"""
        update webhook_endpoints set
            url = coalesce($3, url),
            events = coalesce($4, events),
            filter_company = case when $5 then $6 else filter_company end,
            filter_investor = case when $5 then $7 else filter_investor end,
            filter_round_type = case when $5 then $8::round_type else filter_round_type end,
            filter_status = case when $5 then $9::deal_status else filter_status end,
            enabled = coalesce($10, enabled),
            -- Turned back on: the failures that turned it off are forgiven.
            disabled_reason = case when $10 then null else disabled_reason end,
            failing_since = case when $10 then null else failing_since end,
            updated_at = now()
        where id = $1 and ($2::uuid is null or api_key_id = $2)
        returning {_COLUMNS}
        """,
        endpoint_id,
        owner,
        changes.url,
        changes.events,
        f is not None,
        None if f is None else f.company,
        None if f is None else f.investor,
        None if f is None else f.round_type,
        None if f is None else f.status,
        changes.enabled,
    )
    return None if record is None else Endpoint.from_record(record)


async def rotate_secret(
    db: Executor,
    endpoint_id: uuid.UUID,
    *,
    owner: uuid.UUID | None,
    secret: str,
    overlap: datetime.timedelta,
) -> Endpoint | None:
    record = await db.fetchrow(
        f"""
        update webhook_endpoints set
            previous_secret = case when $4::interval > interval '0' then secret end,
            previous_secret_expires_at =
                case when $4::interval > interval '0' then now() + $4::interval end,
            secret = $3,
            updated_at = now()
        where id = $1 and ($2::uuid is null or api_key_id = $2)
        returning {_COLUMNS}
        """,
        endpoint_id,
        owner,
        secret,
        overlap,
    )
    return None if record is None else Endpoint.from_record(record)


async def delete_endpoint(db: Executor, endpoint_id: uuid.UUID, *, owner: uuid.UUID | None) -> bool:
    deleted = await db.fetchval(
        """
        delete from webhook_endpoints where id = $1 and ($2::uuid is null or api_key_id = $2)
        returning true
        """,
        endpoint_id,
        owner,
    )
    return bool(deleted)
