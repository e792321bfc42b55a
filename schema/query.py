"""The root Query type."""

import datetime
from dataclasses import replace

import strawberry

from db import rows
from db.acquisitions import AcquisitionFilter as DbAcquisitionFilter
from db.acquisitions import AcquisitionOrder as DbAcquisitionOrder
from db.acquisitions import (
    acquisitions_page_request,
    count_acquisitions,
    list_acquisitions,
    list_acquisitions_by_ids,
)
from db.infra.errors import BadInput
from db.infra.ids import Kind
from db.infra.pagination import page_request
from db.organizations import count_organizations, list_organizations, organizations_scope
from db.rounds import RoundFilter as DbRoundFilter
from db.rounds import RoundOrder as DbRoundOrder
from db.rounds import count_rounds, list_rounds, list_rounds_by_ids, rounds_page_request
from schema.acquisition import Acquisition
from schema.connection import Connection
from schema.context import Context
from schema.deals import Deals
from schema.filters import (
    AcquisitionFilter,
    AcquisitionOrder,
    OrganizationFilter,
    RoundFilter,
    RoundOrder,
)
from schema.ids import any_id_argument, id_argument
from schema.node import Node
from schema.organization import Organization, Person
from schema.provenance import Claim, Source
from schema.round import Participation, Round
from schema.stats import Period, RoundDimension, RoundStatsBucket, round_stats

_ROUNDS: Deals[DbRoundFilter, DbRoundOrder, rows.Round, Round] = Deals(
    Kind.ROUND,
    lambda loaders: loaders.round_by_id,
    list_rounds_by_ids,
    rounds_page_request,
    list_rounds,
    count_rounds,
    Round.from_row,
)
_ACQUISITIONS: Deals[DbAcquisitionFilter, DbAcquisitionOrder, rows.Acquisition, Acquisition] = (
    Deals(
        Kind.ACQUISITION,
        lambda loaders: loaders.acquisition_by_id,
        list_acquisitions_by_ids,
        acquisitions_page_request,
        list_acquisitions,
        count_acquisitions,
        Acquisition.from_row,
    )
)


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its id; null when none has that id.")
    async def node(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> Node | None:
        kind, value = any_id_argument(id, "id")
        loaders = info.context.loaders
        match kind:
            case Kind.ORGANIZATION:
                org = await loaders.organization_by_id.load(value)
                return None if org is None else Organization.from_row(org)
            case Kind.PERSON:
                person = await loaders.person_by_id.load(value)
                return None if person is None else Person.from_row(person)
            case Kind.ROUND:
                found = await loaders.round_by_id.load(value)
                return None if found is None else Round.from_row(found)
            case Kind.SOURCE:
                source = await loaders.source_by_id.load(value)
                return None if source is None else Source.from_row(source)
            case Kind.CLAIM:
                claim = await loaders.claim_by_id.load(value)
                return None if claim is None else Claim.from_row(claim)
            case Kind.PARTICIPATION:
                participation = await loaders.participation_by_id.load(value)
                return None if participation is None else Participation.from_row(participation)
            case Kind.ACQUISITION:
                acquisition = await loaders.acquisition_by_id.load(value)
                return None if acquisition is None else Acquisition.from_row(acquisition)

    @strawberry.field(
        description="A round by its id; null when none has that id. With asOf, the round "
        "as it was known then (claims recorded by that time), null if it was not known yet."
    )
    async def round(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID,
        as_of: datetime.datetime | None = None,
    ) -> Round | None:
        return await _ROUNDS.one(info, id, as_of)

    @strawberry.field(
        description="Rounds matching the filter; by default the latest announced first, "
        "undated rounds last."
    )
    async def rounds(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: RoundFilter | None = None,
        order_by: RoundOrder | None = None,
        as_of: datetime.datetime | None = None,
    ) -> Connection[Round]:
        db_filter = replace(await (filter or RoundFilter()).to_db(info.context), as_of=as_of)
        order = DbRoundOrder() if order_by is None else order_by.to_db()
        return await _ROUNDS.page(
            info, db_filter, order, as_of, first=first, after=after, last=last, before=before
        )

    @strawberry.field(
        description="An acquisition by its id; null when none has that id. With asOf, as it "
        "was known then (claims recorded by that time), null if it was not known yet."
    )
    async def acquisition(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID,
        as_of: datetime.datetime | None = None,
    ) -> Acquisition | None:
        return await _ACQUISITIONS.one(info, id, as_of)

    @strawberry.field(
        description="Acquisitions matching the filter; by default the latest announced "
        "first, undated ones last."
    )
    async def acquisitions(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AcquisitionFilter | None = None,
        order_by: AcquisitionOrder | None = None,
        as_of: datetime.datetime | None = None,
    ) -> Connection[Acquisition]:
        db_filter = replace(await (filter or AcquisitionFilter()).to_db(info.context), as_of=as_of)
        order = DbAcquisitionOrder() if order_by is None else order_by.to_db()
        return await _ACQUISITIONS.page(
            info, db_filter, order, as_of, first=first, after=after, last=last, before=before
        )

    @strawberry.field(
        description="Counts and US-dollar amounts of the rounds the filter matches (the same "
        "filter as rounds), in buckets by the dimensions of groupBy, ordered by key. Grouped "
        "by PERIOD, periods without rounds inside the range are present with zeros. With "
        "asOf, over the rounds as they were known then."
    )
    async def round_stats(
        self,
        info: strawberry.Info[Context, None],
        *,
        filter: RoundFilter | None = None,
        group_by: list[RoundDimension],
        period: Period | None = Period.QUARTER,
        as_of: datetime.datetime | None = None,
    ) -> list[RoundStatsBucket]:
        return await round_stats(info, filter, group_by, period or Period.QUARTER, as_of)

    @strawberry.field(
        description="Organizations by name; with filter.search, the best match first."
    )
    async def organizations(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: OrganizationFilter | None = None,
    ) -> Connection[Organization]:
        pool = info.context.pool
        db_filter = (filter or OrganizationFilter()).to_db()
        request = page_request(
            organizations_scope(db_filter), first=first, after=after, last=last, before=before
        )
        page = await list_organizations(pool, filter=db_filter, page=request)
        return Connection.from_page(
            page, Organization.from_row, lambda: count_organizations(pool, filter=db_filter)
        )

    @strawberry.field(description="An organization by id or by slug (give exactly one).")
    async def organization(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID | None = None,
        slug: str | None = None,
    ) -> Organization | None:
        loaders = info.context.loaders
        if (id is None) == (slug is None):
            raise BadInput("give either id or slug", field="slug" if slug else "id")
        if id is not None:
            found = await loaders.organization_by_id.load(id_argument(Kind.ORGANIZATION, id, "id"))
        else:
            assert slug is not None
            found = await loaders.organization_by_slug.load(slug)
        return None if found is None else Organization.from_row(found)
