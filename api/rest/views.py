"""What the REST API shows of each entity: a fixed selection over the description of
db/json/entities.py, answered by the compiler that answers GraphQL (db/json/select.py),
in one statement. The keys are REST's (snake_case); each names the field of the
description it shows.

The change feed and webhook events show entities in these shapes too, so that a mirror
built from them matches the routes.
"""

import datetime
import uuid
from typing import Any, Literal

import orjson

from db.infra.types import Executor
from db.json.select import FAILED, Field, Key, answer, counted_field_json, field_json
from db.json.sources import StatsArgs

JSON = dict[str, Any]
Selection = tuple[Field, ...]


def _f(key: str, name: str | None = None) -> Field:
    return Field(key, name or key)


def _of(key: str, name: str, type_name: str, fields: Selection) -> Field:
    return Field(key, name, None, {type_name: fields})


def _money(key: str, name: str) -> Field:
    money = (_f("qualifier"), _f("currency"), _f("low", "lowAmount"))
    return _of(key, name, "MoneyEstimate", (*money, _f("high", "highAmount"), _f("usd")))


def _date(key: str, name: str) -> Field:
    return _of(key, name, "FuzzyDate", (_f("date"), _f("precision"), _f("text")))


_REF = (_f("id"), _f("slug"), _f("name"))


def _organization_ref(key: str, name: str) -> Field:
    return _of(key, name, "Organization", _REF)


def _investor(key: str, name: str, fields: Selection) -> Field:
    return Field(key, name, None, {"Organization": fields, "Person": fields})


ORGANIZATION = (
    *_REF,
    _f("aliases"),
    _f("description"),
    _f("website"),
    _f("country_code", "countryCode"),
    _f("city"),
    _date("founded", "founded"),
    _f("categories"),
    _f("investor_types", "investorTypes"),
)
PARTICIPATION = (
    _f("id"),
    _f("round_id", "roundId"),
    _investor("investor", "investor", (_f("kind"), *_REF)),
    _money("amount", "amount"),
    _f("is_lead", "isLead"),
    _f("status"),
    _f("stage"),
)
# A round's own fields: the round routes show its participations too.
ROUND_STATE = (
    _f("id"),
    _organization_ref("company", "company"),
    _f("round_type", "roundType"),
    _f("reported_label", "reportedLabel"),
    _f("status"),
    _f("stage"),
    _date("announced", "announced"),
    _f("announced_on", "announcedOn"),
    _f("closed_on", "closedOn"),
    _date("expected_close", "expectedClose"),
    _money("amount", "amount"),
    _money("target_amount", "targetAmount"),
    _money("pre_money_valuation", "preMoneyValuation"),
    _money("post_money_valuation", "postMoneyValuation"),
)
ROUND = (*ROUND_STATE, _of("participations", "participations", "Participation", PARTICIPATION))
SOURCE = (
    _f("id"),
    _f("url"),
    _f("publisher"),
    _f("title"),
    _f("published_at", "publishedAt"),
    _f("kind"),
    _f("language"),
)
CLAIM = (
    _f("id"),
    # What it is about: a round (or one participation in it) or an acquisition.
    _f("round_id", "roundId"),
    _f("acquisition_id", "acquisitionId"),
    _of("source", "source", "Source", SOURCE),
    _f("participation_id", "participationId"),
    _f("quote"),
    _f("attribution"),
    _f("recorded_at", "recordedAt"),
    _f("status"),
    _f("stage"),
    _money("amount", "amount"),
    _money("pre_money_valuation", "preMoneyValuation"),
    _money("post_money_valuation", "postMoneyValuation"),
    _date("expected_close", "expectedClose"),
    _date("announced", "announced"),
    _f("is_lead", "isLead"),
    _f("usd_rate", "usdRate"),
    _f("usd_rate_date", "usdRateDate"),
)
ACQUISITION_CLAIM = (
    *CLAIM,
    _f("closed_on", "closedOn"),
    _f("terms"),
    _f("percent_acquired", "percentAcquired"),
)
_EVENT = (_f("at"), _f("status"), _f("stage"), _of("source", "source", "Source", SOURCE))
ROUND_DETAIL = (
    *ROUND,
    _of("claims", "claims", "Claim", CLAIM),
    _of("history", "history", "StatusEvent", _EVENT),
    _of(
        "negotiators",
        "negotiators",
        "Negotiator",
        (_of("person", "person", "Person", _REF), _organization_ref("on_behalf_of", "onBehalfOf")),
    ),
)
# A participation as an investment: with the round it is in.
INVESTMENT = (
    *PARTICIPATION,
    _of(
        "round",
        "round",
        "Round",
        (
            _f("id"),
            _organization_ref("company", "company"),
            _f("round_type", "roundType"),
            _f("status"),
            _f("stage"),
            _f("announced_on", "announcedOn"),
        ),
    ),
)
ACQUISITION = (
    _f("id"),
    _organization_ref("target", "target"),
    _organization_ref("lead_acquirer", "leadAcquirer"),
    _organization_ref("acquirers", "acquirers"),
    _f("status"),
    _f("stage"),
    _date("announced", "announced"),
    _f("closed_on", "closedOn"),
    _money("price", "price"),
    _f("terms"),
    _f("percent_acquired", "percentAcquired"),
)
ACQUISITION_DETAIL = (
    *ACQUISITION,
    _of("claims", "claims", "Claim", ACQUISITION_CLAIM),
    _of("history", "history", "StatusEvent", _EVENT),
)
CO_INVESTOR = (
    _investor("investor", "node", (_f("kind"), *_REF)),
    _f("shared_rounds", "sharedRounds"),
)
STATS_BUCKET = (
    _of(
        "key",
        "key",
        "RoundStatsKey",
        (
            _date("period", "period"),
            _f("round_type", "roundType"),
            _f("status"),
            _f("stage"),
            _f("country_code", "countryCode"),
            _investor("investor", "investor", (_f("id"), _f("kind"), _f("slug"), _f("name"))),
        ),
    ),
    _f("count"),
    _f("disclosed_count", "disclosedCount"),
    _of(
        "amount_usd",
        "amountUsd",
        "AmountStats",
        tuple(_f(n) for n in ("sum", "median", "p25", "p75", "min", "max")),
    ),
    _of(
        "bounded_count",
        "boundedCount",
        "BoundedCount",
        (_f("up_to", "upTo"), _f("at_least", "atLeast"), _f("range"), _f("about")),
    ),
)


def page_of(
    name: str, args: object, type_name: str, item: Selection, *, edges: bool = False
) -> Field:
    """A REST page of the connection `name`: `{"data": [...], "next_cursor": ...}`, each
    item a node shown as `item`, or with `edges`, an edge shown as `item`."""
    data = Field("data", "edges" if edges else "nodes", None, {type_name: item})
    return Field(name, name, args, {type_name: (data, Field("next_cursor", "nextCursor"))})


def respelled(text: str | None) -> bytes | None:
    """JSON as PostgreSQL writes it (`"key" : value`), as orjson writes it, as the answers
    of these routes always were."""
    return None if text is None else orjson.dumps(orjson.loads(text))


async def shown(db: Executor, field: Field, of: Key | None = None) -> bytes | None:
    """A field of Query, or of the object `of` names, as REST shows it (None for no object)."""
    return respelled(await field_json(db, field, of))


async def shown_page(db: Executor, field: Field) -> tuple[bytes, int]:
    """A page of a connection of Query as PostgreSQL writes it, and the JSON objects its
    `data` holds (its price): a list of up to 100 rounds is sent as built, never parsed."""
    text, objects = await counted_field_json(db, field)
    return text.encode(), objects


async def shown_stats(db: Executor, args: StatsArgs) -> bytes | None:
    """GET /v1/stats/rounds, `{"data": [...]}`: the buckets of roundStats; None when they
    would be too many."""
    field = Field("data", "roundStats", args, {"RoundStatsBucket": STATS_BUCKET})
    found = (await answer(db, (field,))).data
    assert isinstance(found, dict)
    if isinstance(found["data"], dict) and FAILED in found["data"]:
        return None
    return orjson.dumps(found)


def _one(
    name: str, type_name: str, item: Selection, id: uuid.UUID, as_of: datetime.datetime | None
) -> Field:
    """Query's field `name` (a lookup): the object of `type_name` with this id, as `item`."""
    return Field(name, name, Key(type_name, "id", id, "uuid", as_of), {type_name: item})


async def round_detail(
    db: Executor, round_id: uuid.UUID, as_of: datetime.datetime | None = None
) -> bytes | None:
    """GET /v1/rounds/{id}: a round with all that is known of it; as of a time, what was
    recorded by then (None for a round not known then)."""
    return await shown(db, _one("round", "Round", ROUND_DETAIL, round_id, as_of))


async def acquisition_detail(
    db: Executor, acquisition_id: uuid.UUID, as_of: datetime.datetime | None = None
) -> bytes | None:
    """GET /v1/acquisitions/{id}: an acquisition with its claims and history, as
    round_detail()."""
    return await shown(
        db, _one("acquisition", "Acquisition", ACQUISITION_DETAIL, acquisition_id, as_of)
    )


Entity = Literal["organization", "round", "participation", "claim", "acquisition", "source"]
# How each entity is shown by id: the change feed shows deals without their lists
# (their participations and claims are entities of their own); a claim of an
# acquisition shows what it says of the deal's terms too.
_FEED: dict[Entity, tuple[str, dict[str, Selection]]] = {
    "organization": ("organizationsById", {"Organization": ORGANIZATION}),
    "round": ("roundsById", {"Round": ROUND_STATE}),
    "participation": ("participationsById", {"Participation": PARTICIPATION}),
    "claim": ("claimsById", {"Claim": CLAIM, "AcquisitionClaim": ACQUISITION_CLAIM}),
    "acquisition": ("acquisitionsById", {"Acquisition": ACQUISITION}),
    "source": ("sourcesById", {"Source": SOURCE}),
}
# Webhook events carry deals whole, and a participation with its round.
_EVENTS: dict[Entity, tuple[str, dict[str, Selection]]] = {
    **_FEED,
    "round": ("roundsById", {"Round": ROUND_DETAIL}),
    "participation": ("participationsById", {"Participation": INVESTMENT}),
    "acquisition": ("acquisitionsById", {"Acquisition": ACQUISITION_DETAIL}),
}


async def _by_ids(
    db: Executor,
    shapes: dict[Entity, tuple[str, dict[str, Selection]]],
    ids: dict[Entity, list[uuid.UUID]],
) -> dict[Entity, list[JSON | None]]:
    fields = tuple(
        Field(entity, shapes[entity][0], wanted, shapes[entity][1])
        for entity, wanted in ids.items()
        if wanted
    )
    if not fields:
        return {entity: [] for entity in ids}
    found = (await answer(db, fields)).data
    assert isinstance(found, dict)
    return {entity: found.get(entity, []) for entity in ids}


async def feed_states(
    db: Executor, ids: dict[Entity, list[uuid.UUID]]
) -> dict[Entity, list[JSON | None]]:
    """Entities as the change feed shows them, per kind in the order of its ids, None for
    one that no longer exists: all in one statement."""
    return await _by_ids(db, _FEED, ids)


async def event_states(
    db: Executor, ids: dict[Entity, list[uuid.UUID]]
) -> dict[Entity, list[JSON | None]]:
    """Entities as webhook events carry them, as feed_states() gives them."""
    return await _by_ids(db, _EVENTS, ids)
