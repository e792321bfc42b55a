"""Rows as the REST API shows them: snake_case JSON, ids as in GraphQL, money as strings.

Each renderer loads what its rows refer to (companies, investors, sources) in one
batch query per kind, whatever the number of rows. The change feed's entries are rendered
by the same functions (`states_json`), and so is anything else that shows an entity by its
id (`states_json_by_ids`).
"""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from db import rows
from db.infra.ids import Kind, encode_id
from db.infra.types import Executor
from db.organizations import list_organizations_by_ids
from db.participations import list_participations_by_ids, list_participations_by_rounds
from db.people import list_people_by_ids
from db.provenance import (
    list_claims_by_ids,
    list_claims_by_rounds,
    list_negotiators_by_rounds,
    list_sources_by_ids,
    list_status_events_by_rounds,
)
from db.rounds import list_rounds_by_ids

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
        "round_id": encode_id(Kind.ROUND, c.round_id),
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

    def lacks(self, state: "State", sources: dict[uuid.UUID, rows.Source]) -> bool:
        """Whether something `state` refers to was not found (deleted since)."""
        if isinstance(state, rows.Round):
            return state.company_id not in self.organizations
        if isinstance(state, rows.Participation):
            if state.investor_organization_id is not None:
                return state.investor_organization_id not in self.organizations
            return state.investor_person_id not in self.people
        if isinstance(state, rows.Claim):
            return state.source_id not in sources
        return False

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
    source_ids = sorted(
        {c.source_id for c in claims} | {e.source_id for e in events if e.source_id}
    )
    sources = {s.id: s for s in await list_sources_by_ids(db, source_ids) if s is not None}
    orgs, people = _investor_ids(participations)
    orgs |= {found.company_id} | {n.organization_id for n in negotiators if n.organization_id}
    people |= {n.person_id for n in negotiators}
    related = _Related()
    await related.load(db, orgs, people)
    return {
        **related.round(found, participations),
        "claims": [claim_json(c, sources[c.source_id]) for c in claims],
        "history": [
            {
                "at": e.at.isoformat(),
                "status": e.status,
                "stage": e.stage,
                "source": None if e.source_id is None else source_json(sources[e.source_id]),
            }
            for e in events
        ],
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


State = rows.Organization | rows.Round | rows.Participation | rows.Claim
Entity = Literal["organization", "round", "participation", "claim"]


async def states_json(db: Executor, states: Sequence[State | None]) -> list[JSON | None]:
    """Entities as their routes show them (a round without its participations, which are
    entities of their own), in one query per kind of what they refer to: the change
    feed's states. None for None, and for a past state that refers to what has been
    deleted since: the entity itself was deleted or changed since, as later entries say
    (a reference holds while it exists), so it has nothing left to show."""
    orgs: set[uuid.UUID] = set()
    people: set[uuid.UUID] = set()
    source_ids: set[uuid.UUID] = set()
    for state in states:
        if isinstance(state, rows.Round):
            orgs.add(state.company_id)
        elif isinstance(state, rows.Participation):
            found_orgs, found_people = _investor_ids([state])
            orgs |= found_orgs
            people |= found_people
        elif isinstance(state, rows.Claim):
            source_ids.add(state.source_id)
    related = _Related()
    await related.load(db, orgs, people)
    sources = {s.id: s for s in await list_sources_by_ids(db, sorted(source_ids)) if s}
    answers: list[JSON | None] = []
    for state in states:
        if state is None or related.lacks(state, sources):
            answers.append(None)
        elif isinstance(state, rows.Organization):
            answers.append(organization_json(state))
        elif isinstance(state, rows.Round):
            answers.append(related.round_state(state))
        elif isinstance(state, rows.Participation):
            answers.append(related.participation(state))
        else:
            answers.append(claim_json(state, sources[state.source_id]))
    return answers


async def states_json_by_ids(
    db: Executor, entity: Entity, ids: list[uuid.UUID]
) -> list[JSON | None]:
    """The entities of one kind with these ids as `states_json` shows them, in the order
    of `ids`; None for an id that no longer exists."""
    found: Sequence[State | None]
    if entity == "organization":
        found = await list_organizations_by_ids(db, ids)
    elif entity == "round":
        found = await list_rounds_by_ids(db, ids)
    elif entity == "participation":
        found = await list_participations_by_ids(db, ids)
    else:
        found = await list_claims_by_ids(db, ids)
    return await states_json(db, found)
