"""Writes: a report of a round, and a party's confirmation or denial of one.

Each write adds claims (what the source says, with its quote) and lets the rule in
migration 0005 (`refresh_round`) derive the round's values and status history from all
its claims. Callers run each write in one transaction; the change feed's triggers
write their entries in it too.
"""

import datetime
import decimal
import re
import unicodedata
import uuid
from dataclasses import dataclass

from db.access.keys import may_record_kind
from db.currency import UnknownCurrency, usd_rate
from db.infra.errors import BadInput
from db.infra.types import Connection

# A report matches a round of the same company announced this close to it.
MATCH_WINDOW_DAYS = 90
MAX_AMOUNT = decimal.Decimal(10) ** 15
MAX_QUOTE_LENGTH = 5000
_PARTY_KINDS = frozenset({"COMPANY_STATEMENT", "INVESTOR_STATEMENT", "REGULATORY_FILING"})
_CATCH_ALL_TYPES = ("SERIES_UNKNOWN", "OTHER")
# How far ahead of our clock a writer's may be: a publication date past it is refused
# (a false future date would otherwise rank as the newest word).
CLOCK_SKEW = datetime.timedelta(minutes=5)
# Two writers citing one document may round its time differently, not more.
_SAME_DOCUMENT_WITHIN = datetime.timedelta(days=1)


class WriteError(BadInput):
    """Input a write cannot take, with the path of the field at fault."""

    def __init__(self, message: str, path: list[str], *, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message, field=".".join(path))
        self.path = path
        self.code = code


@dataclass(frozen=True, slots=True)
class MoneyInput:
    amount: decimal.Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class EstimateInput:
    qualifier: str
    low: MoneyInput | None = None
    high: MoneyInput | None = None


@dataclass(frozen=True, slots=True)
class SourceInput:
    publisher: str
    published_at: datetime.datetime
    kind: str
    url: str | None = None
    title: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class EntityRef:
    slug: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipationInput:
    investor: EntityRef
    amount: EstimateInput | None = None
    is_lead: bool | None = None


@dataclass(frozen=True, slots=True)
class RoundReport:
    company: EntityRef
    round_type: str
    stage: str
    source: SourceInput
    reported_label: str | None = None
    announced_on: datetime.date | None = None
    amount: EstimateInput | None = None
    post_money_valuation: EstimateInput | None = None
    participations: tuple[ParticipationInput, ...] = ()
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class StatusStatement:
    """A confirmation or a denial, of a round or (with `investor`) of one participation."""

    round_id: uuid.UUID
    source: SourceInput
    quote: str | None = None
    investor: EntityRef | None = None
    amount: EstimateInput | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    round_id: uuid.UUID
    created: bool


def _money_row(
    estimate: EstimateInput | None, path: list[str], rate: "_Rates"
) -> tuple[object, ...] | None:
    """The money_estimate row for an input, checked, with its value in US dollars."""
    if estimate is None:
        return None
    q, low, high = estimate.qualifier, estimate.low, estimate.high
    if q in ("EXACT", "ABOUT") and (low is None) != (high is None):
        low = high = low or high
    expected = {
        "EXACT": (True, True),
        "ABOUT": (True, True),
        "UP_TO": (False, True),
        "AT_LEAST": (True, False),
        "RANGE": (True, True),
    }[q]
    for name, given, wanted in (("low", low, expected[0]), ("high", high, expected[1])):
        if (given is not None) != wanted:
            what = "needs" if wanted else "takes no"
            raise WriteError(f"{q} {what} {name} amount", [*path, name])
    present = [m for m in (low, high) if m is not None]
    for name, m in zip(("low", "high"), (low, high), strict=True):
        if m is None:
            continue
        if not m.amount.is_finite() or not 0 <= m.amount <= MAX_AMOUNT:
            raise WriteError(
                f"the amount must be between 0 and {MAX_AMOUNT:,}", [*path, name, "amount"]
            )
        if not re.fullmatch(r"[A-Z]{3}", m.currency):
            raise WriteError(
                f"{m.currency!r} is not an ISO 4217 currency code", [*path, name, "currency"]
            )
    if len({m.currency for m in present}) > 1:
        raise WriteError("low and high must be in the same currency", [*path, "high", "currency"])
    if (
        q in ("EXACT", "ABOUT")
        and low is not None
        and high is not None
        and low.amount != high.amount
    ):
        raise WriteError(f"{q} has one value: low and high must be equal", [*path, "high"])
    if q == "RANGE" and low is not None and high is not None and not low.amount < high.amount:
        raise WriteError("a RANGE runs from a lower low to a higher high", [*path, "high"])
    currency = present[0].currency
    factor = rate.of(currency, [*path, (low and "low") or "high", "currency"])
    # The normalized value: the bound the qualifier gives, the middle of a range.
    if q == "RANGE" and low is not None and high is not None:
        basis = (low.amount + high.amount) / 2
    else:
        basis = (high or low).amount  # type: ignore[union-attr]
    usd = (basis * factor).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_EVEN)
    return (
        q,
        currency,
        None if low is None else low.amount,
        None if high is None else high.amount,
        usd,
    )


class _Rates:
    """The reference rate a claim's money is converted at; one currency per claim."""

    def __init__(self, on: datetime.date) -> None:
        self.on = on
        self.currency: str | None = None
        self.rate: decimal.Decimal | None = None
        self.rate_date: datetime.date | None = None

    def of(self, currency: str, path: list[str]) -> decimal.Decimal:
        if self.currency is not None and currency != self.currency:
            raise WriteError(
                f"one report gives its amounts in one currency, here {self.currency}", path
            )
        try:
            found = usd_rate(currency, self.on)
        except UnknownCurrency as e:
            raise WriteError(str(e), path) from None
        self.currency, self.rate, self.rate_date = currency, found.rate, found.on
        return found.rate


def _check_text(value: str | None, path: list[str], *, max_length: int = 500) -> None:
    if value is None:
        return
    if not value.strip() or len(value) > max_length:
        raise WriteError(f"must have 1 to {max_length} characters", path)
    if "\x00" in value:
        raise WriteError("must not contain NUL characters", path)


def _check_source(source: SourceInput) -> None:
    _check_text(source.publisher, ["source", "publisher"])
    _check_text(source.title, ["source", "title"])
    if source.url is not None and not re.fullmatch(r"https?://[^\s]{1,2000}", source.url):
        raise WriteError("must be an http(s) URL", ["source", "url"])
    if source.language is not None and not re.fullmatch(
        r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", source.language
    ):
        raise WriteError(
            "must be a BCP 47 language tag such as fr or en-US", ["source", "language"]
        )
    if source.published_at.tzinfo is None:
        raise WriteError("must carry a time zone", ["source", "publishedAt"])
    if source.published_at > datetime.datetime.now(datetime.UTC) + CLOCK_SKEW:
        raise WriteError("is in the future", ["source", "publishedAt"])


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:180].strip("-")
    return slug or "organization"


async def _lock(conn: Connection, key: str) -> None:
    """Serialize writers on one key until the transaction ends."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))", key)


async def _resolve_entity(
    conn: Connection, ref: EntityRef, path: list[str], *, create: bool = True
) -> tuple[str, uuid.UUID]:
    """("organization" | "person", id): by slug, else by name or alias, else created."""
    if ref.slug is not None:
        row = await conn.fetchrow(
            "select 'organization' as kind, id from organizations where slug = $1"
            " union all select 'person', id from people where slug = $1 limit 1",
            ref.slug,
        )
        if row is None:
            raise WriteError(
                f"no organization or person has the slug {ref.slug!r}",
                [*path, "slug"],
                code="NOT_FOUND",
            )
        return row["kind"], row["id"]
    if ref.name is None:
        raise WriteError("give a slug or a name", path)
    _check_text(ref.name, [*path, "name"], max_length=200)
    name = " ".join(ref.name.split())
    await _lock(conn, f"entity-name:{name.lower()}")
    row = await conn.fetchrow(
        """
        select 'organization' as kind, o.id from organizations o
        where lower(o.name) = lower($1)
           or exists (select 1 from organization_aliases a
                      where a.organization_id = o.id and lower(a.alias) = lower($1))
        union all
        select 'person', p.id from people p where lower(p.name) = lower($1)
        limit 1
        """,
        name,
    )
    if row is not None:
        return row["kind"], row["id"]
    if not create:
        raise WriteError(
            f"no organization or person is named {name!r}", [*path, "name"], code="NOT_FOUND"
        )
    # A new name becomes an organization: nothing in a report tells a person apart.
    base = slugify(name)
    org_id: uuid.UUID = await conn.fetchval(
        """
        insert into organizations (slug, name)
        select candidate, $2
        from (select $1 as candidate union all
              select $1 || '-' || n from generate_series(2, 1000) as n) c
        where not exists (select 1 from organizations where slug = c.candidate)
        limit 1
        returning id
        """,
        base,
        name,
    )
    return "organization", org_id


async def _source(conn: Connection, source: SourceInput, api_key_id: uuid.UUID | None) -> uuid.UUID:
    _check_source(source)
    if api_key_id is not None and not await may_record_kind(
        conn, key_id=api_key_id, kind=source.kind
    ):
        raise WriteError(
            f"this key may not record sources of kind {source.kind}; an admin grants it with "
            "`dealgraph keys create --source-kinds`",
            ["source", "kind"],
            code="FORBIDDEN",
        )
    source_id: uuid.UUID | None = await conn.fetchval(
        """
        insert into sources (url, publisher, title, language, published_at, kind, api_key_id)
        values ($1, $2, $3, $4, $5, $6, $7)
        on conflict (url) do nothing
        returning id
        """,
        source.url,
        source.publisher,
        source.title,
        source.language,
        source.published_at,
        source.kind,
        api_key_id,
    )
    if source_id is not None:
        return source_id
    # A URL already recorded: the same document, so it must be the same kind, from the
    # same publisher, of about the same date. One writer's word on what a document is
    # does not change how others' claims citing it rank.
    known = await conn.fetchrow(
        "select id, kind::text, publisher, published_at from sources where url = $1", source.url
    )
    assert known is not None  # the conflict was on this URL; sources are never deleted
    mismatch = None
    if known["kind"] != source.kind:
        mismatch = "kind", f"a {known['kind']}"
    elif known["publisher"].casefold() != source.publisher.casefold():
        mismatch = "publisher", f"published by {known['publisher']!r}"
    elif known["published_at"] is not None and (
        abs(known["published_at"] - source.published_at) > _SAME_DOCUMENT_WITHIN
    ):
        mismatch = "publishedAt", f"published at {known['published_at'].isoformat()}"
    if mismatch is not None:
        field, what = mismatch
        raise WriteError(
            f"this URL is recorded as {what}; a source is one document: give it as "
            "recorded, or cite another URL",
            ["source", field],
            code="SOURCE_MISMATCH",
        )
    found: uuid.UUID = known["id"]
    return found


def _status_of(kind: str) -> str:
    return "CONFIRMED" if kind in _PARTY_KINDS else "REPORTED"


async def _insert_claim(
    conn: Connection,
    *,
    source_id: uuid.UUID,
    round_id: uuid.UUID,
    participation_id: uuid.UUID | None,
    quote: str | None,
    status: str | None,
    stage: str | None,
    amount: tuple[object, ...] | None,
    post_money: tuple[object, ...] | None = None,
    announced_on: datetime.date | None = None,
    is_lead: bool | None = None,
    rates: _Rates,
    api_key_id: uuid.UUID | None,
) -> None:
    await conn.execute(
        """
        insert into claims (source_id, round_id, participation_id, quote, status, stage,
                            amount, post_money_valuation, announced_on, announced_precision,
                            is_lead, usd_rate, usd_rate_date, api_key_id)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, case when $9::date is null then null
                else 'DAY'::date_precision end, $10, $11, $12, $13)
        """,
        source_id,
        round_id,
        participation_id,
        quote,
        status,
        stage,
        amount,
        post_money,
        announced_on,
        is_lead,
        rates.rate,
        rates.rate_date,
        api_key_id,
    )


async def _participation(
    conn: Connection, round_id: uuid.UUID, investor: tuple[str, uuid.UUID], status: str, stage: str
) -> uuid.UUID:
    kind, investor_id = investor
    column = "investor_organization_id" if kind == "organization" else "investor_person_id"
    participation_id: uuid.UUID = await conn.fetchval(
        f"""
        with added as (
            insert into participations (round_id, {column}, status, stage)
            values ($1, $2, $3, $4)
            on conflict do nothing
            returning id
        )
        select id from added
        union all select id from participations where round_id = $1 and {column} = $2
        limit 1
        """,
        round_id,
        investor_id,
        status,
        stage,
    )
    return participation_id


async def report_round(
    conn: Connection, report: RoundReport, *, api_key_id: uuid.UUID | None
) -> WriteResult:
    """Add a report to the round it describes, or create that round."""
    _check_text(report.quote, ["quote"], max_length=MAX_QUOTE_LENGTH)
    _check_text(report.reported_label, ["reportedLabel"], max_length=200)
    kind, company_id = await _resolve_entity(conn, report.company, ["company"])
    if kind != "organization":
        raise WriteError("a company is an organization, not a person", ["company"])
    rates = _Rates(report.announced_on or report.source.published_at.date())
    amount = _money_row(report.amount, ["amount"], rates)
    post_money = _money_row(report.post_money_valuation, ["postMoneyValuation"], rates)
    source_id = await _source(conn, report.source, api_key_id)
    status = _status_of(report.source.kind)

    # Two reports of one deal at once must find one round: one matcher per company.
    await _lock(conn, f"round-match:{company_id}")
    round_id: uuid.UUID | None = await conn.fetchval(
        """
        select id from rounds
        where company_id = $1 and stage <> 'ABANDONED'
          and (round_type = $2 or round_type = any($4::round_type[])
               or $2 = any($4::round_type[]))
          and (stage = 'IN_TALKS'
               or ($3::date is not null
                   and announced_on between $3::date - $5::int and $3::date + $5::int)
               or ($3::date is null and announced_on is null))
        order by round_type = $2 desc, abs(announced_on - $3::date) nulls last, created_at desc, id
        limit 1
        """,
        company_id,
        report.round_type,
        report.announced_on,
        list(_CATCH_ALL_TYPES),
        MATCH_WINDOW_DAYS,
    )
    created = round_id is None
    if round_id is None:
        round_id = await conn.fetchval(
            """
            insert into rounds (company_id, round_type, reported_label, status, stage)
            values ($1, $2, $3, $4, $5) returning id
            """,
            company_id,
            report.round_type,
            report.reported_label,
            status,
            report.stage,
        )
        assert round_id is not None
    await _insert_claim(
        conn,
        source_id=source_id,
        round_id=round_id,
        participation_id=None,
        quote=report.quote,
        status=status,
        stage=report.stage,
        amount=amount,
        post_money=post_money,
        announced_on=report.announced_on,
        rates=rates,
        api_key_id=api_key_id,
    )
    for index, given in enumerate(report.participations):
        path = ["participations", str(index)]
        investor = await _resolve_entity(conn, given.investor, [*path, "investor"])
        share = _money_row(given.amount, [*path, "amount"], rates)
        participation_id = await _participation(conn, round_id, investor, status, report.stage)
        await _insert_claim(
            conn,
            source_id=source_id,
            round_id=round_id,
            participation_id=participation_id,
            quote=report.quote,
            status=status,
            stage=report.stage,
            amount=share,
            is_lead=given.is_lead,
            rates=rates,
            api_key_id=api_key_id,
        )
    await conn.execute("select refresh_round($1, $2)", round_id, api_key_id)
    return WriteResult(round_id=round_id, created=created)


async def state_status(
    conn: Connection, statement: StatusStatement, status: str, *, api_key_id: uuid.UUID | None
) -> WriteResult:
    """Record a party's CONFIRMED or DENIED about a round or one of its participations."""
    _check_text(statement.quote, ["quote"], max_length=MAX_QUOTE_LENGTH)
    # Writers on one round wait for each other, so its history is one consistent story.
    found = await conn.fetchrow(
        "select id, announced_on from rounds where id = $1 for update", statement.round_id
    )
    if found is None:
        raise WriteError("no round has this id", ["roundId"], code="NOT_FOUND")
    rates = _Rates(found["announced_on"] or statement.source.published_at.date())
    source_id = await _source(conn, statement.source, api_key_id)
    participation_id = None
    if statement.investor is not None:
        kind, investor_id = await _resolve_entity(
            conn, statement.investor, ["investor"], create=False
        )
        column = "investor_organization_id" if kind == "organization" else "investor_person_id"
        participation_id = await conn.fetchval(
            f"select id from participations where round_id = $1 and {column} = $2",
            statement.round_id,
            investor_id,
        )
        if participation_id is None:
            raise WriteError(
                "this investor takes no part in the round", ["investor"], code="NOT_FOUND"
            )
    amount = _money_row(statement.amount, ["amount"], rates)
    await _insert_claim(
        conn,
        source_id=source_id,
        round_id=statement.round_id,
        participation_id=participation_id,
        quote=statement.quote,
        status=status,
        stage=None,
        amount=amount,
        rates=rates,
        api_key_id=api_key_id,
    )
    await conn.execute("select refresh_round($1, $2)", statement.round_id, api_key_id)
    return WriteResult(round_id=statement.round_id, created=False)
