"""Rows as the REST API shows them: snake_case JSON, ids as in GraphQL, money as strings.

Each renderer loads what its rows refer to (companies, investors, sources) in one
batch query per kind, whatever the number of rows. The change feed shows its entities
with the same functions (`states_json_by_ids`), as can anything else that shows an entity
by its id.
"""

import datetime
import uuid
from typing import Any, Literal

from db import rows
from db.acquisitions import list_acquirers_by_acquisitions, list_acquisitions_by_ids
from db.co_investors import CoInvestor
from db.infra.ids import Kind, encode_id
from db.infra.types import Executor
from db.organizations import list_organizations_by_ids
from db.participations import list_participations_by_ids, list_participations_by_rounds
from db.people import list_people_by_ids
from db.provenance import (
    list_claims_by_acquisitions,
    list_claims_by_ids,
    list_claims_by_rounds,
    list_negotiators_by_rounds,
    list_sources_by_ids,
    list_status_events_by_acquisitions,
    list_status_events_by_rounds,
)
from db.rounds import list_rounds_by_ids
from db.stats import RoundStatsBucket

JSON = dict[str, Any]


def money_json(m: rows.MoneyEstimate | None) -> JSON | None:
    if m is None:
        return None

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "qualifier": m.qualifier,
        "currency": m.currency,
        "low": text(m.low),
        "high": text(m.high),
        "usd": text(m.usd),
    }


def fuzzy_date_json(d: rows.FuzzyDate | None) -> JSON | None:
    if d is None:
        return None
    return {"date": d.date.isoformat(), "precision": d.precision, "text": d.text}


def organization_json(o: rows.Organization) -> JSON:
    return {
        "id": encode_id(Kind.ORGANIZATION, o.id),
        "slug": o.slug,
        "name": o.name,
        "aliases": o.aliases,
        "description": o.description,
        "website": o.website,
        "country_code": o.country_code,
        "city": o.city,
        "founded": fuzzy_date_json(o.founded),
        "categories": o.categories,
        "investor_types": o.investor_types,
    }


def _ref(kind: Kind, row: rows.Organization | rows.Person) -> JSON:
    return {"id": encode_id(kind, row.id), "slug": row.slug, "name": row.name}


def source_json(s: rows.Source) -> JSON:
    return {
        "id": encode_id(Kind.SOURCE, s.id),
        "url": s.url,
        "publisher": s.publisher,
        "title": s.title,
        "published_at": None if s.published_at is None else s.published_at.isoformat(),
        "kind": s.kind,
        "language": s.language,
    }


def claim_json(c: rows.Claim, source: rows.Source) -> JSON:
    return {
        "id": encode_id(Kind.CLAIM, c.id),
        # What it is about: a round (or one participation in it) or an acquisition.
        "round_id": None if c.round_id is None else encode_id(Kind.ROUND, c.round_id),
        "acquisition_id": None
        if c.acquisition_id is None
        else encode_id(Kind.ACQUISITION, c.acquisition_id),
        "source": source_json(source),
        "participation_id": None
        if c.participation_id is None
        else encode_id(Kind.PARTICIPATION, c.participation_id),
        "quote": c.quote,
        "attribution": c.attribution,
        "recorded_at": c.recorded_at.isoformat(),
        "status": c.status,
        "stage": c.stage,
        "amount": money_json(c.amount),
        "pre_money_valuation": money_json(c.pre_money_valuation),
        "post_money_valuation": money_json(c.post_money_valuation),
        "expected_close": fuzzy_date_json(c.expected_close),
        "announced": fuzzy_date_json(c.announced),
        "is_lead": c.is_lead,
        "usd_rate": None if c.usd_rate is None else str(c.usd_rate),
        "usd_rate_date": None if c.usd_rate_date is None else c.usd_rate_date.isoformat(),
    }


def acquisition_claim_json(c: rows.Claim, source: rows.Source) -> JSON:
    return {
        **claim_json(c, source),
        "closed_on": None if c.closed_on is None else c.closed_on.isoformat(),
        "terms": c.terms,
        "percent_acquired": None if c.percent_acquired is None else str(c.percent_acquired),
    }


def event_json(e: rows.StatusEvent, sources: dict[uuid.UUID, rows.Source]) -> JSON:
    return {
        "at": e.at.isoformat(),
        "status": e.status,
        "stage": e.stage,
        "source": None if e.source_id is None else source_json(sources[e.source_id]),
    }


async def sources_of(
    db: Executor, claims: list[rows.Claim], events: list[rows.StatusEvent]
) -> dict[uuid.UUID, rows.Source]:
    """The sources of some claims and events, in one query."""
    source_ids = sorted(
        {c.source_id for c in claims} | {e.source_id for e in events if e.source_id}
    )
    return {s.id: s for s in await list_sources_by_ids(db, source_ids) if s is not None}


class _Related:
    """The organizations and people some rows refer to, loaded in one query each."""

    def __init__(self) -> None:
        self.organizations: dict[uuid.UUID, rows.Organization] = {}
        self.people: dict[uuid.UUID, rows.Person] = {}

    async def load(
        self, db: Executor, organization_ids: set[uuid.UUID], person_ids: set[uuid.UUID]
    ) -> None:
        if organization_ids:
            found = await list_organizations_by_ids(db, sorted(organization_ids))
            self.organizations.update((o.id, o) for o in found if o is not None)
        if person_ids:
            people = await list_people_by_ids(db, sorted(person_ids))
            self.people.update((p.id, p) for p in people if p is not None)

    def organization(self, org_id: uuid.UUID) -> JSON:
        return _ref(Kind.ORGANIZATION, self.organizations[org_id])

    def investor(self, p: rows.Participation) -> JSON:
        if p.investor_organization_id is not None:
            return {"kind": "organization", **self.organization(p.investor_organization_id)}
        assert p.investor_person_id is not None  # a check constraint guarantees it
        return {"kind": "person", **_ref(Kind.PERSON, self.people[p.investor_person_id])}

    def participation(self, p: rows.Participation) -> JSON:
        return {
            "id": encode_id(Kind.PARTICIPATION, p.id),
            "round_id": encode_id(Kind.ROUND, p.round_id),
            "investor": self.investor(p),
            "amount": money_json(p.amount),
            "is_lead": p.is_lead,
            "status": p.status,
            "stage": p.stage,
        }

    def round(self, r: rows.Round, participations: list[rows.Participation]) -> JSON:
        return {
            **self.round_state(r),
            "participations": [self.participation(p) for p in participations],
        }

    def round_state(self, r: rows.Round) -> JSON:
        """A round's own fields: the round routes show its participations too."""
        return {
            "id": encode_id(Kind.ROUND, r.id),
            "company": self.organization(r.company_id),
            "round_type": r.round_type,
            "reported_label": r.reported_label,
            "status": r.status,
            "stage": r.stage,
            "announced": fuzzy_date_json(r.announced),
            "announced_on": None if r.announced is None else r.announced.date.isoformat(),
            "closed_on": None if r.closed_on is None else r.closed_on.isoformat(),
            "expected_close": fuzzy_date_json(r.expected_close),
            "amount": money_json(r.amount),
            "target_amount": money_json(r.target_amount),
            "pre_money_valuation": money_json(r.pre_money_valuation),
            "post_money_valuation": money_json(r.post_money_valuation),
        }


def _investor_ids(
    participations: list[rows.Participation],
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    orgs = {p.investor_organization_id for p in participations if p.investor_organization_id}
    people = {p.investor_person_id for p in participations if p.investor_person_id}
    return orgs, people


async def rounds_json(
    db: Executor, found: list[rows.Round], as_of: datetime.datetime | None = None
) -> list[JSON]:
    participations = await list_participations_by_rounds(db, [r.id for r in found], as_of=as_of)
    flat = [p for ps in participations for p in ps]
    orgs, people = _investor_ids(flat)
    related = _Related()
    await related.load(db, orgs | {r.company_id for r in found}, people)
    return [related.round(r, ps) for r, ps in zip(found, participations, strict=True)]


async def round_detail_json(
    db: Executor, found: rows.Round, as_of: datetime.datetime | None = None
) -> JSON:
    """A round with all that is known of it; as of a time, what was recorded by then."""
    [participations] = await list_participations_by_rounds(db, [found.id], as_of=as_of)
    [claims] = await list_claims_by_rounds(db, [found.id])
    [events] = await list_status_events_by_rounds(db, [found.id])
    [negotiators] = await list_negotiators_by_rounds(db, [found.id])
    if as_of is not None:
        claims = [c for c in claims if c.recorded_at <= as_of]
        events = [e for e in events if e.recorded_at <= as_of]
        known = {c.id for c in claims}
        negotiators = [n for n in negotiators if n.claim_id is None or n.claim_id in known]
    sources = await sources_of(db, claims, events)
    orgs, people = _investor_ids(participations)
    orgs |= {found.company_id} | {n.organization_id for n in negotiators if n.organization_id}
    people |= {n.person_id for n in negotiators}
    related = _Related()
    await related.load(db, orgs, people)
    return {
        **related.round(found, participations),
        "claims": [claim_json(c, sources[c.source_id]) for c in claims],
        "history": [event_json(e, sources) for e in events],
        "negotiators": [
            {
                "person": _ref(Kind.PERSON, related.people[n.person_id]),
                "on_behalf_of": None
                if n.organization_id is None
                else related.organization(n.organization_id),
            }
            for n in negotiators
        ],
    }


async def investments_json(db: Executor, participations: list[rows.Participation]) -> list[JSON]:
    rounds = {
        r.id: r
        for r in await list_rounds_by_ids(db, sorted({p.round_id for p in participations}))
        if r is not None
    }
    orgs, people = _investor_ids(participations)
    related = _Related()
    await related.load(db, orgs | {r.company_id for r in rounds.values()}, people)
    answers = []
    for p in participations:
        r = rounds[p.round_id]
        answers.append(
            {
                **related.participation(p),
                "round": {
                    "id": encode_id(Kind.ROUND, r.id),
                    "company": related.organization(r.company_id),
                    "round_type": r.round_type,
                    "status": r.status,
                    "stage": r.stage,
                    "announced_on": None if r.announced is None else r.announced.date.isoformat(),
                },
            }
        )
    return answers


def _acquisition(a: rows.Acquisition, acquirers: list[rows.Acquirer], related: _Related) -> JSON:
    lead = next(q for q in acquirers if q.is_lead)
    return {
        "id": encode_id(Kind.ACQUISITION, a.id),
        "target": related.organization(a.target_id),
        "lead_acquirer": related.organization(lead.organization_id),
        "acquirers": [related.organization(q.organization_id) for q in acquirers],
        "status": a.status,
        "stage": a.stage,
        "announced": fuzzy_date_json(a.announced),
        "closed_on": None if a.closed_on is None else a.closed_on.isoformat(),
        "price": money_json(a.price),
        "terms": a.terms,
        "percent_acquired": None if a.percent_acquired is None else str(a.percent_acquired),
    }


async def acquisitions_json(
    db: Executor, found: list[rows.Acquisition], as_of: datetime.datetime | None = None
) -> list[JSON]:
    """Acquisitions with their target and acquirers; as of a time, the acquirers known then."""
    acquirers = await list_acquirers_by_acquisitions(db, [a.id for a in found])
    if as_of is not None:
        acquirers = [[q for q in qs if q.added_at <= as_of] for qs in acquirers]
    related = _Related()
    orgs = {a.target_id for a in found} | {q.organization_id for qs in acquirers for q in qs}
    await related.load(db, orgs, set())
    return [_acquisition(a, qs, related) for a, qs in zip(found, acquirers, strict=True)]


async def acquisition_detail_json(
    db: Executor, found: rows.Acquisition, as_of: datetime.datetime | None = None
) -> JSON:
    """An acquisition with its claims and history; as of a time, what was recorded by then."""
    [answer] = await acquisitions_json(db, [found], as_of)
    [claims] = await list_claims_by_acquisitions(db, [found.id])
    [events] = await list_status_events_by_acquisitions(db, [found.id])
    if as_of is not None:
        claims = [c for c in claims if c.recorded_at <= as_of]
        events = [e for e in events if e.recorded_at <= as_of]
    sources = await sources_of(db, claims, events)
    return {
        **answer,
        "claims": [acquisition_claim_json(c, sources[c.source_id]) for c in claims],
        "history": [event_json(e, sources) for e in events],
    }


Entity = Literal["organization", "round", "participation", "claim", "acquisition"]


async def states_json_by_ids(
    db: Executor, entity: Entity, ids: list[uuid.UUID]
) -> list[JSON | None]:
    """Entities of one kind as their routes show them, in the order of `ids`, None for one
    that no longer exists: an organization as GET /v1/organizations/{id}, a round or an
    acquisition as GET /v1/rounds/{id} or /v1/acquisitions/{id} without their lists (their
    participations and claims are entities of their own), a participation and a claim as
    in those lists. One query per kind of row, whatever the number of ids."""
    if entity == "organization":
        return [
            None if o is None else organization_json(o)
            for o in await list_organizations_by_ids(db, ids)
        ]
    if entity == "acquisition":
        acquisitions = await list_acquisitions_by_ids(db, ids)
        shown = await acquisitions_json(db, [a for a in acquisitions if a is not None])
        by_id = dict(zip([a.id for a in acquisitions if a is not None], shown, strict=True))
        return [by_id.get(i) for i in ids]
    if entity == "claim":
        claims = await list_claims_by_ids(db, ids)
        sources = await sources_of(db, [c for c in claims if c is not None], [])
        return [
            None
            if c is None
            else (claim_json if c.acquisition_id is None else acquisition_claim_json)(
                c, sources[c.source_id]
            )
            for c in claims
        ]
    related = _Related()
    if entity == "round":
        rounds = await list_rounds_by_ids(db, ids)
        await related.load(db, {r.company_id for r in rounds if r is not None}, set())
        return [None if r is None else related.round_state(r) for r in rounds]
    participations = await list_participations_by_ids(db, ids)
    await related.load(db, *_investor_ids([p for p in participations if p is not None]))
    return [None if p is None else related.participation(p) for p in participations]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def round_stats_json(buckets: list[RoundStatsBucket], precision: str) -> list[JSON]:
    """Buckets as GraphQL's roundStats gives them; `precision` is the period's length."""

    def investor(b: RoundStatsBucket) -> JSON | None:
        if b.investor_organization_id is not None:
            kind, found = "organization", encode_id(Kind.ORGANIZATION, b.investor_organization_id)
        elif b.investor_person_id is not None:
            kind, found = "person", encode_id(Kind.PERSON, b.investor_person_id)
        else:
            return None
        return {"id": found, "kind": kind, "slug": b.investor_slug, "name": b.investor_name}

    return [
        {
            "key": {
                "period": None
                if b.period is None
                else fuzzy_date_json(rows.FuzzyDate(b.period, precision)),
                "round_type": b.round_type,
                "status": b.status,
                "stage": b.stage,
                "country_code": b.country_code,
                "investor": investor(b),
            },
            "count": b.count,
            "disclosed_count": b.disclosed_count,
            "amount_usd": {
                "sum": str(b.sum_usd),
                "median": _text(b.median_usd),
                "p25": _text(b.p25_usd),
                "p75": _text(b.p75_usd),
                "min": _text(b.min_usd),
                "max": _text(b.max_usd),
            },
            "bounded_count": {
                "up_to": b.up_to_count,
                "at_least": b.at_least_count,
                "range": b.range_count,
                "about": b.about_count,
            },
        }
        for b in buckets
    ]


def co_investors_json(co_investors: list[CoInvestor]) -> list[JSON]:
    def investor(c: CoInvestor) -> JSON:
        if c.organization_id is not None:
            kind, found = "organization", encode_id(Kind.ORGANIZATION, c.organization_id)
        else:
            assert c.person_id is not None  # a check constraint on participations guarantees it
            kind, found = "person", encode_id(Kind.PERSON, c.person_id)
        return {"kind": kind, "id": found, "slug": c.slug, "name": c.name}

    return [{"investor": investor(c), "shared_rounds": c.shared_rounds} for c in co_investors]
