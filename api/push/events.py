"""Webhook events from change-feed entries: the event's name, its body (the entity as
the REST API shows it, api/rest/views.py), and what endpoint filters match.

A round, participation or acquisition change that moves its status or stage is
`<entity>.status_changed`, with the previous and new values and the claim and source
that caused it; any other change is `.created`, `.updated` or `.deleted`. Claims are
not events of their own: what they change in deals is. For an endpoint's filter, an
acquisition's target is its company and its acquirers are its investors.
"""

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

from api.rest.views import JSON, Entity, event_states
from db.infra.ids import Kind, decode_any_id, encode_id
from db.infra.types import Connection
from db.webhooks.endpoints import Endpoint
from db.webhooks.feed import FeedEntry, status_of

EVENT_TYPES = (
    "round.created",
    "round.updated",
    "round.status_changed",
    "round.deleted",
    "participation.created",
    "participation.updated",
    "participation.status_changed",
    "participation.deleted",
    "organization.created",
    "organization.updated",
    "organization.deleted",
    "acquisition.created",
    "acquisition.updated",
    "acquisition.status_changed",
    "acquisition.deleted",
)
_KINDS = {
    "round": Kind.ROUND,
    "participation": Kind.PARTICIPATION,
    "organization": Kind.ORGANIZATION,
    "acquisition": Kind.ACQUISITION,
}


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    at: datetime.datetime
    # Deliveries of one endpoint about one subject go out in order: a round's events
    # and its participations' share the round as subject; an acquisition is its own.
    subject_id: uuid.UUID
    body: bytes
    # What endpoint filters look at; empty when the entity is gone.
    company: str | None = None
    investors: frozenset[str] = field(default_factory=frozenset)
    round_type: str | None = None
    status: str | None = None
    organization: str | None = None

    def wanted_by(self, endpoint: Endpoint) -> bool:
        if self.type not in endpoint.events or self.at < endpoint.created_at:
            return False
        f = endpoint.filter
        if self.type.startswith("organization."):
            named = {i for i in (f.company, f.investor) if i is not None}
            return not named or self.organization in named
        return (
            (f.company is None or f.company == self.company)
            and (f.investor is None or f.investor in self.investors)
            and (f.round_type is None or f.round_type == self.round_type)
            and (f.status is None or f.status == self.status)
        )


def _uuid(public_id: str) -> uuid.UUID:
    return decode_any_id(public_id)[1]


def _round_id(entry: FeedEntry) -> uuid.UUID:
    if entry.entity == "participation" and entry.state is not None:
        return _uuid(entry.state["round_id"])
    return entry.entity_id


async def events_of(conn: Connection, entries: list[FeedEntry]) -> list[Event]:
    """The events of these entries, in feed order; each entity is rendered as it is now
    (at or after its change), with one batch of queries per kind of entity."""
    typed = [(e, t) for e in entries if (t := e.event) is not None]
    alive = [e for e, _ in typed if e.operation != "delete"]

    def ids(entity: str) -> list[uuid.UUID]:
        return sorted({e.entity_id for e in alive if e.entity == entity})

    wanted: dict[Entity, list[uuid.UUID]] = {
        entity: ids(entity) for entity in ("round", "participation", "acquisition", "organization")
    }
    wanted["source"] = sorted({e.source_id for e in alive if e.source_id is not None})
    states = await event_states(conn, wanted)
    shown: dict[Entity, dict[uuid.UUID, JSON]] = {
        entity: {i: s for i, s in zip(found, states[entity], strict=True) if s is not None}
        for entity, found in wanted.items()
    }

    events = []
    for entry, type_ in typed:
        public_id = encode_id(_KINDS[entry.entity], entry.entity_id)
        facts: dict[str, Any] = {}
        data: dict[str, Any] = {"id": public_id}
        if entry.entity == "organization":
            data["organization"] = shown["organization"].get(entry.entity_id)
            facts["organization"] = public_id
        else:
            rep = shown[cast(Entity, entry.entity)].get(entry.entity_id)
            status, stage = status_of(entry.state)
            previous_status, previous_stage = status_of(entry.previous)
            data |= {
                entry.entity: rep,
                "status": status,
                "stage": stage,
                "previous_status": previous_status,
                "previous_stage": previous_stage,
                "claim_id": None
                if entry.claim_id is None
                else encode_id(Kind.CLAIM, entry.claim_id),
                "source": None if entry.source_id is None else shown["source"].get(entry.source_id),
            }
            if rep is not None:
                facts = _round_facts(entry.entity, rep, status)
        body = {"type": type_, "timestamp": entry.at.isoformat(), "data": data}
        subject = entry.entity_id if entry.entity == "organization" else _round_id(entry)
        events.append(Event(type_, entry.at, subject, orjson.dumps(body), **facts))
    return events


def _round_facts(entity: str, rep: dict[str, Any], status: str | None) -> dict[str, Any]:
    if entity == "acquisition":
        return {
            "company": rep["target"]["id"],
            "investors": frozenset(a["id"] for a in rep["acquirers"]),
            "status": status,
        }
    if entity == "round":
        return {
            "company": rep["company"]["id"],
            "investors": frozenset(p["investor"]["id"] for p in rep["participations"]),
            "round_type": rep["round_type"],
            "status": status,
        }
    return {
        "company": rep["round"]["company"]["id"],
        "investors": frozenset({rep["investor"]["id"]}),
        "round_type": rep["round"]["round_type"],
        "status": status,
    }
