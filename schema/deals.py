"""What Query's round and acquisition fields share: a deal by id (as it is, or as it was
known at a time), and a filtered, ordered page of deals with its count. Each kind of deal
names its own db/ functions; the reading is written once."""

import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from db.infra.ids import Kind
from db.infra.pagination import Page, PageRequest
from schema.connection import Connection
from schema.context import Context, Loaders
from schema.ids import id_argument

Filter = TypeVar("Filter")
Order = TypeVar("Order")
Row = TypeVar("Row")
Node = TypeVar("Node")


@dataclass(frozen=True, slots=True)
class Deals(Generic[Filter, Order, Row, Node]):
    kind: Kind
    loader: Callable[[Loaders], DataLoader[uuid.UUID, Row | None]]
    # (db, ids, *, as_of) → rows in the order asked, None where there is none then.
    by_ids: Callable[..., Awaitable[list[Row | None]]]
    # (filter, order, *, first, after, last, before) → the checked page request.
    page_request: Callable[..., PageRequest]
    # (db, *, filter, order, page) → the page; (db, *, filter) → how many match.
    list_page: Callable[..., Awaitable[Page[Row]]]
    count: Callable[..., Awaitable[int]]
    node: Callable[[Row, datetime.datetime | None], Node]

    async def one(
        self, info: strawberry.Info[Context, None], id: str, as_of: datetime.datetime | None
    ) -> Node | None:
        deal_id = id_argument(self.kind, id, "id")
        if as_of is None:
            found = await self.loader(info.context.loaders).load(deal_id)
        else:
            [found] = await self.by_ids(info.context.pool, [deal_id], as_of=as_of)
        return None if found is None else self.node(found, as_of)

    async def page(
        self,
        info: strawberry.Info[Context, None],
        db_filter: Filter,
        order: Order,
        as_of: datetime.datetime | None,
        **page: Any,
    ) -> Connection[Node]:
        """`page` is first, after, last and before, as given."""
        pool = info.context.pool
        request = self.page_request(db_filter, order, **page)
        found = await self.list_page(pool, filter=db_filter, order=order, page=request)
        return Connection.from_page(
            found,
            lambda row: self.node(row, as_of),
            lambda: self.count(pool, filter=db_filter),
        )
