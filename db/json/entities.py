"""How each GraphQL type's fields are read from SQL: the description the compiler
(db/json/select.py) builds one statement from. Adding a field is one entry here.

Templates: `{t}` is the row of the object (a table alias, or the value an embedded
object is made of); an embedded object's own names (`{m}`, `{day}`...) are bound by the
field that embeds it; in a relation, `{c}` is the related row; `{as_of}` is the moment
of an as-of read. A row's columns are those of its table (db/migrations).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from db.infra.pagination import PageRequest
from db.json.acquisitions import AcquisitionsArgs, acquirer_acquisitions, acquisitions
from db.json.sources import (
    Prefetched,
    RoundsArgs,
    Rows,
    Source,
    StatsArgs,
    co_investors,
    company_rounds,
    investments,
    prefetched,
    round_stats,
    rounds,
)
from db.json.sql import SqlBuilder, datetime_text, fuzzy_date_text
from db.participations import participation_order, participations_as_of


@dataclass(frozen=True, slots=True)
class Expr:
    """A value computed from the row: a column, or any expression (JSON included)."""

    sql: str


@dataclass(frozen=True, slots=True)
class Embedded:
    """An object made of the same row's values (money, a fuzzy date): `env` binds the
    embedded type's names."""

    type: str
    env: dict[str, str]


@dataclass(frozen=True, slots=True)
class One:
    """The row of `table` (aliased `{c}`) where `on`; null when there is none. `fk`: the
    parent's column that references the row (a foreign key), so that the row is there
    whenever it is set (a page counts its objects without looking the row up)."""

    type: str
    table: str
    on: str
    fk: str | None = None


@dataclass(frozen=True, slots=True)
class Many:
    """The rows of `table` where `on`, in `order`; `as_of_table` and `as_of_on` are the
    rows known at an as-of moment (which the objects below keep)."""

    type: str
    table: str
    on: str
    order: str
    as_of_table: str | None = None
    as_of_on: str | None = None


@dataclass(frozen=True, slots=True)
class Either:
    """An interface: the first option whose condition holds."""

    options: tuple[tuple[str, One], ...]


@dataclass(frozen=True, slots=True)
class Connection:
    """A page of `type`: `source` gives its rows from the field's arguments and the
    parent's row alias. The edge's node is the row as a `type`, or `node` of the row;
    `edge` holds the edge's other fields, of the row."""

    type: str
    source: Callable[[SqlBuilder, object, str], Source]
    node: "Kind | None" = None
    edge: "Mapping[str, Kind] | None" = None


@dataclass(frozen=True, slots=True)
class Listed:
    """A list of `type` made of the rows `rows` gives from the field's arguments."""

    type: str
    rows: Callable[[SqlBuilder, object], Rows]


@dataclass(frozen=True, slots=True)
class Lookup:
    """One object by a key (the root fields): the arguments say which type and key."""


@dataclass(frozen=True, slots=True)
class ById:
    """Objects by id (the arguments: a list of uuids), in that order, null for an id no
    row of `table` has: each row as a `type`, or `node` of the row."""

    table: str
    type: str | None = None
    node: "Either | None" = None


Kind = Expr | Embedded | One | Many | Either | Connection | Listed | Lookup | ById


@dataclass(frozen=True, slots=True)
class Entity:
    fields: dict[str, Kind]
    # The rows of a type that has a table: for lookups by key, and as of a moment.
    table: str | None = None
    as_of_table: str | None = None
    # An embedded object is null when this holds.
    null_if: str | None = None
    # Its objects read the same at every moment (an organization under an acquisition read
    # as of a time is the organization now), so nothing below them is read as of one.
    timeless: bool = False


def _money(column: str) -> Embedded:
    return Embedded("MoneyEstimate", {"m": f"({{t}}.{column})"})


def _date(day: str, precision: str) -> Embedded:
    return Embedded("FuzzyDate", {"day": f"{{t}}.{day}", "precision": f"{{t}}.{precision}"})


def _nested_page(
    make: Callable[[SqlBuilder, PageRequest, str], Source],
) -> Callable[[SqlBuilder, object, str], Source]:
    def source(sql: SqlBuilder, args: object, parent: str) -> Source:
        assert isinstance(args, PageRequest)
        return make(sql, args, parent)

    return source


def _root_rounds(sql: SqlBuilder, args: object, parent: str) -> Source:
    assert isinstance(args, RoundsArgs)
    return rounds(sql, args)


def _prefetched(sql: SqlBuilder, args: object, parent: str) -> Source:
    assert isinstance(args, Prefetched)
    return prefetched(sql, args)


_CLAIM_ORDER = "{c}.recorded_at, {c}.id"

# --- compiler (issue 19): summaries and co-investors ---------------------------------
# As db/summaries.py and db/co_investors.py read them; `{t}` is the organization or person.

_OF_INVESTOR = "(p.investor_organization_id = {t}.id or p.investor_person_id = {t}.id)"
_INVESTMENTS = f"participations p join rounds r on r.id = p.round_id where {_OF_INVESTOR}"
_RAISED = "rounds r where r.company_id = {t}.id"
# By announcement date; undated rounds come after dated ones either way.
_FIRST, _LAST = "r.announced_on nulls last", "r.announced_on desc nulls last"


def _investor(of: str) -> Either:
    """The organization or person whose ids are `{of}_organization_id` and
    `{of}_person_id` of the row."""
    return Either(
        (
            (
                f"{{t}}.{of}_organization_id is not null",
                One(
                    "Organization",
                    "organizations {c}",
                    f"{{c}}.id = {{t}}.{of}_organization_id",
                    fk=f"{of}_organization_id",
                ),
            ),
            (
                "true",
                One(
                    "Person", "people {c}", f"{{c}}.id = {{t}}.{of}_person_id", fk=f"{of}_person_id"
                ),
            ),
        )
    )


_INVESTOR_FIGURES: dict[str, Kind] = {
    "investmentSummary": Embedded("InvestmentSummary", {"t": "{t}"}),
    "coInvestors": Connection(
        "CoInvestor",
        _nested_page(co_investors),
        node=_investor("investor"),
        edge={"sharedRounds": Expr("{t}.shared_rounds")},
    ),
}


def _summaries() -> dict[str, "Entity"]:
    return {
        "FundingSummary": Entity(
            {
                "roundsCount": Expr(f"(select count(*)::int from {_RAISED})"),
                "disclosedCount": Expr(f"(select count(r.amount_usd)::int from {_RAISED})"),
                "totalUsd": Expr(f"(select coalesce(sum(r.amount_usd), 0)::text from {_RAISED})"),
                "latestStatus": Expr(
                    f"(select r.status from {_RAISED} order by {_LAST}, r.id desc limit 1)"
                ),
                "firstRound": One(
                    "Round",
                    "rounds {c}",
                    f"{{c}}.id = (select r.id from {_RAISED} order by {_FIRST}, r.id limit 1)",
                ),
                "lastRound": One(
                    "Round",
                    "rounds {c}",
                    f"{{c}}.id = (select r.id from {_RAISED} order by {_LAST}, r.id desc limit 1)",
                ),
            }
        ),
        "InvestmentSummary": Entity(
            {
                "investmentsCount": Expr(f"(select count(*)::int from {_INVESTMENTS})"),
                "leadsCount": Expr(
                    f"(select (count(*) filter (where p.is_lead))::int from {_INVESTMENTS})"
                ),
                "byRoundType": Many(
                    "RoundTypeCount",
                    f"(select r.round_type, count(*)::int as n from {_INVESTMENTS}"
                    " group by r.round_type) {c}",
                    "true",
                    "{c}.round_type",
                ),
                "firstInvestment": One(
                    "Participation",
                    "participations {c}",
                    f"{{c}}.id = (select p.id from {_INVESTMENTS} order by {_FIRST}, p.id limit 1)",
                ),
                "lastInvestment": One(
                    "Participation",
                    "participations {c}",
                    f"{{c}}.id = (select p.id from {_INVESTMENTS}"
                    f" order by {_LAST}, p.id desc limit 1)",
                ),
            }
        ),
        "RoundTypeCount": Entity({"roundType": Expr("{t}.round_type"), "count": Expr("{t}.n")}),
    }


def _round_stats(sql: SqlBuilder, args: object) -> Rows:
    assert isinstance(args, StatsArgs)
    return round_stats(sql, args)


def _stats() -> dict[str, "Entity"]:
    """Query.roundStats: `{t}` is a bucket of db/stats.py's statement."""
    of_bucket = {"t": "{t}"}
    return {
        "RoundStatsBucket": Entity(
            {
                "key": Embedded("RoundStatsKey", of_bucket),
                "count": Expr("{t}.count"),
                "disclosedCount": Expr("{t}.disclosed_count"),
                "amountUsd": Embedded("AmountStats", of_bucket),
                "boundedCount": Embedded("BoundedCount", of_bucket),
            }
        ),
        "RoundStatsKey": Entity(
            {
                "period": Embedded(
                    "FuzzyDate", {"day": "{t}.period", "precision": "{t}.precision"}
                ),
                "roundType": Expr("{t}.round_type"),
                "status": Expr("{t}.status"),
                "stage": Expr("{t}.stage"),
                "countryCode": Expr("{t}.country_code"),
                "investor": _investor("investor"),
            }
        ),
        "AmountStats": Entity(
            {
                "sum": Expr("{t}.sum_usd::text"),
                "median": Expr("{t}.median_usd::text"),
                "p25": Expr("{t}.p25_usd::text"),
                "p75": Expr("{t}.p75_usd::text"),
                "min": Expr("{t}.min_usd::text"),
                "max": Expr("{t}.max_usd::text"),
            }
        ),
        "BoundedCount": Entity(
            {
                "upTo": Expr("{t}.up_to_count"),
                "atLeast": Expr("{t}.at_least_count"),
                "range": Expr("{t}.range_count"),
                "about": Expr("{t}.about_count"),
            }
        ),
    }


# --- end compiler block -----------------------------------------------------------------
_SOURCE = One("Source", "sources {c}", "{c}.id = {t}.source_id")

ENTITIES: dict[str, Entity] = {
    "Query": Entity(
        {
            "node": Lookup(),
            "round": Lookup(),
            "organization": Lookup(),
            "rounds": Connection("Round", _root_rounds),
            "organizations": Connection("Organization", _prefetched),
            "roundStats": Listed("RoundStatsBucket", _round_stats),
        }
    ),
    "Round": Entity(
        {
            "id": Expr("public_id('rnd', {t}.id)"),
            "roundType": Expr("{t}.round_type"),
            "reportedLabel": Expr("{t}.reported_label"),
            "status": Expr("{t}.status"),
            "stage": Expr("{t}.stage"),
            "announced": _date("announced_on", "announced_precision"),
            "closedOn": Expr("{t}.closed_on"),
            "expectedClose": _date("expected_close_on", "expected_close_precision"),
            "amount": _money("amount"),
            "targetAmount": _money("target_amount"),
            "preMoneyValuation": _money("pre_money_valuation"),
            "postMoneyValuation": _money("post_money_valuation"),
            "announcedOn": Expr("{t}.announced_on"),
            "company": One(
                "Organization", "organizations {c}", "{c}.id = {t}.company_id", fk="company_id"
            ),
            "participations": Many(
                "Participation",
                "participations {c}",
                "{c}.round_id = {t}.id",
                participation_order("{c}"),
                as_of_table=participations_as_of("{as_of}") + " {c}",
            ),
            "negotiators": Many(
                "Negotiator",
                "round_negotiators {c} join people {c}_p on {c}_p.id = {c}.person_id",
                "{c}.round_id = {t}.id",
                "{c}_p.name",
                as_of_on="({c}.claim_id is null or exists (select 1 from claims k"
                " where k.id = {c}.claim_id and k.round_id = {t}.id"
                " and k.recorded_at <= {as_of}))",
            ),
            "claims": Many(
                "Claim",
                "claims {c}",
                "{c}.round_id = {t}.id",
                _CLAIM_ORDER,
                as_of_on="{c}.recorded_at <= {as_of}",
            ),
            "history": Many(
                "StatusEvent",
                "status_events {c}",
                "{c}.round_id = {t}.id and {c}.participation_id is null",
                "{c}.at, {c}.recorded_at, {c}.id",
                as_of_on="{c}.recorded_at <= {as_of}",
            ),
        },
        table="rounds",
        as_of_table="rounds_as_of({as_of})",
    ),
    "Participation": Entity(
        {
            "id": Expr("public_id('par', {t}.id)"),
            "amount": _money("amount"),
            "isLead": Expr("{t}.is_lead"),
            "status": Expr("{t}.status"),
            "stage": Expr("{t}.stage"),
            "investor": _investor("investor"),
            "round": One("Round", "rounds {c}", "{c}.id = {t}.round_id"),
            "claims": Many(
                "Claim",
                "claims {c}",
                # Through the round: index claims_round serves it.
                "{c}.round_id = {t}.round_id and {c}.participation_id = {t}.id",
                _CLAIM_ORDER,
                as_of_on="{c}.recorded_at <= {as_of}",
            ),
        },
        table="participations",
    ),
    "Organization": Entity(
        {
            "id": Expr("public_id('org', {t}.id)"),
            "name": Expr("{t}.name"),
            "slug": Expr("{t}.slug"),
            # In the order db/organizations.py reads them.
            "aliases": Expr(
                "coalesce((select json_agg(a.alias order by a.alias) from organization_aliases a"
                " where a.organization_id = {t}.id), '[]'::json)"
            ),
            "description": Expr("{t}.description"),
            "website": Expr("{t}.website"),
            "countryCode": Expr("{t}.country_code"),
            "city": Expr("{t}.city"),
            "founded": _date("founded_on", "founded_precision"),
            "categories": Expr("{t}.categories"),
            "investorTypes": Expr("{t}.investor_types"),
            "rounds": Connection("Round", _nested_page(company_rounds)),
            "investments": Connection("Participation", _nested_page(investments)),
            **_INVESTOR_FIGURES,
            "fundingSummary": Embedded("FundingSummary", {"t": "{t}"}),
        },
        table="organizations",
        timeless=True,
    ),
    "Person": Entity(
        {
            "id": Expr("public_id('per', {t}.id)"),
            "name": Expr("{t}.name"),
            "slug": Expr("{t}.slug"),
            "roles": Many("PersonRole", "person_roles {c}", "{c}.person_id = {t}.id", "{c}.title"),
            "investments": Connection("Participation", _nested_page(investments)),
            **_INVESTOR_FIGURES,
        },
        table="people",
    ),
    "PersonRole": Entity(
        {
            "title": Expr("{t}.title"),
            "organization": One(
                "Organization", "organizations {c}", "{c}.id = {t}.organization_id"
            ),
        }
    ),
    "Negotiator": Entity(
        {
            "person": One("Person", "people {c}", "{c}.id = {t}.person_id"),
            "onBehalfOf": One("Organization", "organizations {c}", "{c}.id = {t}.organization_id"),
            "claim": One("Claim", "claims {c}", "{c}.id = {t}.claim_id"),
        }
    ),
    "Claim": Entity(
        {
            "id": Expr("public_id('clm', {t}.id)"),
            "quote": Expr("{t}.quote"),
            "attribution": Expr("{t}.attribution"),
            "recordedAt": Expr(datetime_text("{t}.recorded_at")),
            "status": Expr("{t}.status"),
            "stage": Expr("{t}.stage"),
            "amount": _money("amount"),
            "preMoneyValuation": _money("pre_money_valuation"),
            "postMoneyValuation": _money("post_money_valuation"),
            "expectedClose": _date("expected_close_on", "expected_close_precision"),
            "announced": _date("announced_on", "announced_precision"),
            "isLead": Expr("{t}.is_lead"),
            "usdRate": Expr("{t}.usd_rate::text"),
            "usdRateDate": Expr("{t}.usd_rate_date"),
            "closedOn": Expr("{t}.closed_on"),
            "terms": Expr("{t}.terms"),
            "percentAcquired": Expr("{t}.percent_acquired::text"),
            "source": _SOURCE,
            "participation": One(
                "Participation", "participations {c}", "{c}.id = {t}.participation_id"
            ),
        },
        table="claims",
    ),
    "Source": Entity(
        {
            "id": Expr("public_id('src', {t}.id)"),
            "url": Expr("{t}.url"),
            "publisher": Expr("{t}.publisher"),
            "title": Expr("{t}.title"),
            "publishedAt": Expr(datetime_text("{t}.published_at")),
            "kind": Expr("{t}.kind"),
            "language": Expr("{t}.language"),
        },
        table="sources",
    ),
    "StatusEvent": Entity(
        {
            "at": Expr(datetime_text("{t}.at")),
            "status": Expr("{t}.status"),
            "stage": Expr("{t}.stage"),
            "source": _SOURCE,
        }
    ),
    "MoneyEstimate": Entity(
        {
            "qualifier": Expr("{m}.qualifier"),
            "low": Embedded("Money", {"amount": "{m}.low", "currency": "{m}.currency"}),
            "high": Embedded("Money", {"amount": "{m}.high", "currency": "{m}.currency"}),
            "usd": Expr("{m}.usd::text"),
        },
        null_if="{m}.qualifier is null",
    ),
    "Money": Entity(
        {"amount": Expr("{amount}::text"), "currency": Expr("{currency}")},
        null_if="{amount} is null",
    ),
    "FuzzyDate": Entity(
        {
            "date": Expr("{day}"),
            "precision": Expr("{precision}"),
            "text": Expr(fuzzy_date_text("{day}", "{precision}")),
        },
        null_if="{day} is null",
    ),
    **_summaries(),
    **_stats(),
}


# Acquisitions (issue 17), in a block of their own: the type, its root fields and the
# organization's two sides of it. Their rows come from db/json/acquisitions.py.


def _root_acquisitions(sql: SqlBuilder, args: object, parent: str) -> Source:
    assert isinstance(args, AcquisitionsArgs)
    return acquisitions(sql, args)


# An acquirer is an organization through the acquirers row `{c}_q`, the lead first, then
# in the order they were reported (db/acquisitions.py list_acquirers_by_acquisitions).
_ACQUIRERS = "acquirers {c}_q join organizations {c} on {c}.id = {c}_q.organization_id"

ENTITIES["Acquisition"] = Entity(
    {
        "id": Expr("public_id('acq', {t}.id)"),
        "status": Expr("{t}.status"),
        "stage": Expr("{t}.stage"),
        "announced": _date("announced_on", "announced_precision"),
        "closedOn": Expr("{t}.closed_on"),
        "price": _money("price"),
        "terms": Expr("{t}.terms"),
        "percentAcquired": Expr("{t}.percent_acquired::text"),
        "target": One("Organization", "organizations {c}", "{c}.id = {t}.target_id"),
        "acquirers": Many(
            "Organization",
            _ACQUIRERS,
            "{c}_q.acquisition_id = {t}.id",
            "{c}_q.is_lead desc, {c}_q.added_at, {c}_q.organization_id",
            as_of_on="{c}_q.added_at <= {as_of}",
        ),
        # The lead is written with the first claim and never changes, so it is known
        # whenever the acquisition is.
        "leadAcquirer": One(
            "Organization", _ACQUIRERS, "{c}_q.acquisition_id = {t}.id and {c}_q.is_lead"
        ),
        "claims": Many(
            "Claim",
            "claims {c}",
            "{c}.acquisition_id = {t}.id",
            _CLAIM_ORDER,
            as_of_on="{c}.recorded_at <= {as_of}",
        ),
        "history": Many(
            "StatusEvent",
            "status_events {c}",
            "{c}.acquisition_id = {t}.id",
            "{c}.at, {c}.recorded_at, {c}.id",
            as_of_on="{c}.recorded_at <= {as_of}",
        ),
    },
    table="acquisitions",
    as_of_table="acquisitions_as_of({as_of})",
)
ENTITIES["Query"].fields.update(
    {
        "acquisition": Lookup(),
        "acquisitions": Connection("Acquisition", _root_acquisitions),
    }
)
ENTITIES["Organization"].fields.update(
    {
        "acquisitions": Connection("Acquisition", _nested_page(acquirer_acquisitions)),
        "acquiredBy": Many(
            "Acquisition",
            "acquisitions {c}",
            "{c}.target_id = {t}.id",
            "coalesce({c}.announced_on, '-infinity'::date) desc, {c}.id desc",
        ),
    }
)


# What the REST representations (api/rest/views.py) show that GraphQL shows otherwise:
# an investor's kind, the ids of what a row belongs to, money's amounts bare. And the
# objects of each type by id, for the change feed and webhook events.
ENTITIES["Organization"].fields["kind"] = Expr("'organization'")
ENTITIES["Person"].fields["kind"] = Expr("'person'")
ENTITIES["Participation"].fields["roundId"] = Expr("public_id('rnd', {t}.round_id)")
ENTITIES["Claim"].fields.update(
    {
        "roundId": Expr("public_id('rnd', {t}.round_id)"),
        "acquisitionId": Expr("public_id('acq', {t}.acquisition_id)"),
        "participationId": Expr("public_id('par', {t}.participation_id)"),
    }
)
ENTITIES["MoneyEstimate"].fields.update(
    {
        "currency": Expr("{m}.currency"),
        "lowAmount": Expr("{m}.low::text"),
        "highAmount": Expr("{m}.high::text"),
    }
)
# A claim about an acquisition: REST shows what it says of the deal's terms too.
ENTITIES["AcquisitionClaim"] = ENTITIES["Claim"]
ENTITIES["Query"].fields.update(
    {
        "organizationsById": ById("organizations", "Organization"),
        "roundsById": ById("rounds", "Round"),
        "participationsById": ById("participations", "Participation"),
        "acquisitionsById": ById("acquisitions", "Acquisition"),
        "sourcesById": ById("sources", "Source"),
        "claimsById": ById(
            "claims",
            node=Either(
                (
                    (
                        "{t}.acquisition_id is null",
                        One("Claim", "claims {c}", "{c}.id = {t}.id"),
                    ),
                    ("true", One("AcquisitionClaim", "claims {c}", "{c}.id = {t}.id")),
                )
            ),
        ),
    }
)
