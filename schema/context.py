"""The per-request context: the pool and a fresh set of DataLoaders."""

import datetime
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from strawberry.dataloader import DataLoader

from db import rows
from db.access.principal import Principal
from db.acquisitions import (
    count_acquisitions_of_acquirers,
    list_acquirers_by_acquisitions,
    list_acquisitions_by_ids,
    list_acquisitions_of_acquirers,
    list_acquisitions_of_targets,
)
from db.co_investors import CoInvestor, count_co_investors, list_co_investors
from db.infra.batch import pages_per_parent
from db.infra.pagination import Page, PageRequest
from db.infra.types import Pool
from db.organizations import list_organizations_by_ids, list_organizations_by_slugs
from db.participations import (
    count_investments_of_investors,
    list_investments_of_investors,
    list_participations_by_ids,
    list_participations_by_rounds,
)
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
from db.rounds import count_rounds_of_companies, list_rounds_by_ids, list_rounds_of_companies
from db.summaries import (
    FundingSummary,
    InvestmentSummary,
    list_funding_summaries,
    list_investment_summaries,
)
from db.webhooks.feed import FeedEntry


async def _participations_as_of(
    pool: Pool, keys: list[tuple[uuid.UUID, datetime.datetime | None]]
) -> list[list[rows.Participation]]:
    found: dict[tuple[uuid.UUID, datetime.datetime | None], list[rows.Participation]] = {}
    for as_of in {as_of for _, as_of in keys}:
        round_ids = [round_id for round_id, when in keys if when == as_of]
        lists = await list_participations_by_rounds(pool, round_ids, as_of=as_of)
        found.update(((round_id, as_of), ps) for round_id, ps in zip(round_ids, lists, strict=True))
    return [found[key] for key in keys]


class Loaders:
    """One DataLoader per relation, named <thing>_by_<key>; made anew for each request."""

    def __init__(self, pool: Pool) -> None:
        self.organization_by_id: DataLoader[uuid.UUID, rows.Organization | None] = DataLoader(
            partial(list_organizations_by_ids, pool)
        )
        self.organization_by_slug: DataLoader[str, rows.Organization | None] = DataLoader(
            partial(list_organizations_by_slugs, pool)
        )
        self.person_by_id: DataLoader[uuid.UUID, rows.Person | None] = DataLoader(
            partial(list_people_by_ids, pool)
        )
        self.round_by_id: DataLoader[uuid.UUID, rows.Round | None] = DataLoader(
            partial(list_rounds_by_ids, pool)
        )
        self.source_by_id: DataLoader[uuid.UUID, rows.Source | None] = DataLoader(
            partial(list_sources_by_ids, pool)
        )
        self.participation_by_id: DataLoader[uuid.UUID, rows.Participation | None] = DataLoader(
            partial(list_participations_by_ids, pool)
        )
        # Keyed by (round, as of): a past read sees the participations known then.
        self.participations_by_round: DataLoader[
            tuple[uuid.UUID, datetime.datetime | None], list[rows.Participation]
        ] = DataLoader(partial(_participations_as_of, pool))
        self.claim_by_id: DataLoader[uuid.UUID, rows.Claim | None] = DataLoader(
            partial(list_claims_by_ids, pool)
        )
        self.claims_by_round: DataLoader[uuid.UUID, list[rows.Claim]] = DataLoader(
            partial(list_claims_by_rounds, pool)
        )
        self.negotiators_by_round: DataLoader[uuid.UUID, list[rows.Negotiator]] = DataLoader(
            partial(list_negotiators_by_rounds, pool)
        )
        self.rounds_page_by_company: DataLoader[tuple[uuid.UUID, PageRequest], Page[rows.Round]] = (
            DataLoader(lambda keys: pages_per_parent(keys, partial(list_rounds_of_companies, pool)))
        )
        self.rounds_count_by_company: DataLoader[uuid.UUID, int] = DataLoader(
            partial(count_rounds_of_companies, pool)
        )
        self.investments_page_by_investor: DataLoader[
            tuple[uuid.UUID, PageRequest], Page[rows.Participation]
        ] = DataLoader(
            lambda keys: pages_per_parent(keys, partial(list_investments_of_investors, pool))
        )
        self.investments_count_by_investor: DataLoader[uuid.UUID, int] = DataLoader(
            partial(count_investments_of_investors, pool)
        )
        self.status_events_by_round: DataLoader[uuid.UUID, list[rows.StatusEvent]] = DataLoader(
            partial(list_status_events_by_rounds, pool)
        )
        self.acquisition_by_id: DataLoader[uuid.UUID, rows.Acquisition | None] = DataLoader(
            partial(list_acquisitions_by_ids, pool)
        )
        self.acquirers_by_acquisition: DataLoader[uuid.UUID, list[rows.Acquirer]] = DataLoader(
            partial(list_acquirers_by_acquisitions, pool)
        )
        self.claims_by_acquisition: DataLoader[uuid.UUID, list[rows.Claim]] = DataLoader(
            partial(list_claims_by_acquisitions, pool)
        )
        self.status_events_by_acquisition: DataLoader[uuid.UUID, list[rows.StatusEvent]] = (
            DataLoader(partial(list_status_events_by_acquisitions, pool))
        )
        self.acquisitions_by_target: DataLoader[uuid.UUID, list[rows.Acquisition]] = DataLoader(
            partial(list_acquisitions_of_targets, pool)
        )
        self.acquisitions_page_by_acquirer: DataLoader[
            tuple[uuid.UUID, PageRequest], Page[rows.Acquisition]
        ] = DataLoader(
            lambda keys: pages_per_parent(keys, partial(list_acquisitions_of_acquirers, pool))
        )
        self.acquisitions_count_by_acquirer: DataLoader[uuid.UUID, int] = DataLoader(
            partial(count_acquisitions_of_acquirers, pool)
        )
        self.funding_summary_by_company: DataLoader[uuid.UUID, FundingSummary] = DataLoader(
            partial(list_funding_summaries, pool)
        )
        self.investment_summary_by_investor: DataLoader[uuid.UUID, InvestmentSummary] = DataLoader(
            partial(list_investment_summaries, pool)
        )
        self.co_investors_page_by_investor: DataLoader[
            tuple[uuid.UUID, PageRequest], Page[CoInvestor]
        ] = DataLoader(lambda keys: pages_per_parent(keys, partial(list_co_investors, pool)))
        self.co_investors_count_by_investor: DataLoader[uuid.UUID, int] = DataLoader(
            partial(count_co_investors, pool)
        )


class ChangeFeed(Protocol):
    """The change feed as subscriptions follow it (api/push/hub.py)."""

    def follow(self) -> AbstractAsyncContextManager[AsyncIterator[list[FeedEntry]]]: ...


@dataclass
class Context:
    pool: Pool
    # The key behind the request; writes record it (the api_key_id columns).
    principal: Principal | None = None
    # For subscriptions only (over WebSocket).
    changes: ChangeFeed | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.pool)

    def forget(self) -> None:
        """Drop what the loaders hold: a subscription reads each event afresh."""
        self.loaders = Loaders(self.pool)
