"""An investor's investments come latest round first, undated last, and keep that order
and their count as rounds are dated again, participations come and go and a round
changes hands: the order is read from investment_order (migration 0132), which the
triggers keep."""

import httpx
import pytest

from db.infra.types import Pool
from tests.graphql import graphql_data

INVESTMENTS = """
{ organization(slug: "fund") { investments(first: 10) { totalCount
    edges { node { round { company { slug } announced { text } } } } } } }
"""


@pytest.fixture(scope="module", autouse=True)
async def invested(pool: Pool) -> None:
    await pool.execute(
        """
        with orgs as (
            insert into organizations (slug, name)
            select s, s from unnest(array['fund', 'a', 'b', 'c', 'd']) s
            returning id, slug
        ), made as (
            insert into rounds (company_id, round_type, status, stage, announced_on,
                                announced_precision)
            select o.id, 'SEED', 'REPORTED', 'ANNOUNCED', d, case when d is null then null
                   else 'DAY'::date_precision end
            from orgs o join (values ('a', date '2011-01-01'), ('b', date '2013-01-01'),
                                     ('c', null), ('d', date '2012-01-01')) v (slug, d)
                 on v.slug = o.slug
            returning id
        )
        insert into participations (round_id, investor_organization_id, status, stage)
        select made.id, (select id from orgs where slug = 'fund'), 'REPORTED', 'ANNOUNCED'
        from made
        """
    )


async def _companies(client: httpx.AsyncClient) -> tuple[list[str], int]:
    page = (await graphql_data(client, INVESTMENTS))["organization"]["investments"]
    return [e["node"]["round"]["company"]["slug"] for e in page["edges"]], page["totalCount"]


async def test_investments_follow_dates_and_participations(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    assert await _companies(client) == (["b", "d", "a", "c"], 4)
    # A round dated again moves; an undated one dated goes among the dated.
    await pool.execute(
        "update rounds set announced_on = date '2014-01-01', announced_precision = 'DAY'"
        " where company_id = (select id from organizations where slug = 'a')"
    )
    await pool.execute(
        "update rounds set announced_on = date '2012-06-01', announced_precision = 'DAY'"
        " where company_id = (select id from organizations where slug = 'c')"
    )
    assert await _companies(client) == (["a", "b", "c", "d"], 4)
    await pool.execute(
        "delete from participations where round_id in (select r.id from rounds r"
        " join organizations o on o.id = r.company_id where o.slug = 'b')"
    )
    assert await _companies(client) == (["a", "c", "d"], 3)
    # A participation moved to another round takes that round's date.
    await pool.execute(
        """
        insert into rounds (company_id, round_type, status, stage, announced_on,
                            announced_precision)
        select id, 'SERIES_A', 'REPORTED', 'ANNOUNCED', date '2010-01-01', 'DAY'
        from organizations where slug = 'b'
        """
    )
    await pool.execute(
        "update participations set round_id = (select r.id from rounds r"
        " join organizations o on o.id = r.company_id"
        " where o.slug = 'b' and r.round_type = 'SERIES_A')"
        " where round_id in (select r.id from rounds r"
        " join organizations o on o.id = r.company_id where o.slug = 'a')"
    )
    assert await _companies(client) == (["c", "d", "b"], 3)


COUNTS = """
{ lead: organization(slug: "lead-fund") { investments(first: 1) { totalCount } }
  other: organization(slug: "other-fund") { investments(first: 1) { totalCount } } }
"""


async def _counts(client: httpx.AsyncClient) -> tuple[int, int]:
    data = await graphql_data(client, COUNTS)
    return data["lead"]["investments"]["totalCount"], data["other"]["investments"]["totalCount"]


async def test_counts_follow_participations_written_moved_and_deleted(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    # totalCount reads investment_counts (migration 0133), which triggers keep: several
    # investors in one statement, an investment handed to another investor, a round
    # deleted with its participations.
    await pool.execute(
        """
        with orgs as (
            insert into organizations (slug, name)
            select s, s from unnest(array['lead-fund', 'other-fund', 'startup']) s
            returning id, slug
        ), made as (
            insert into rounds (company_id, round_type, status, stage)
            select id, t, 'REPORTED', 'ANNOUNCED' from orgs,
                   unnest(array['SEED', 'SERIES_A', 'SERIES_B', 'SERIES_C']::round_type[]) t
            where slug = 'startup'
            returning id, round_type
        )
        insert into participations (round_id, investor_organization_id, status, stage)
        select made.id, orgs.id, 'REPORTED', 'ANNOUNCED'
        from made join orgs
             on (orgs.slug, made.round_type) in (
                 ('lead-fund', 'SEED'), ('lead-fund', 'SERIES_A'), ('lead-fund', 'SERIES_B'),
                 ('other-fund', 'SERIES_A'), ('other-fund', 'SERIES_B'),
                 ('other-fund', 'SERIES_C'))
        """
    )
    assert await _counts(client) == (3, 3)
    await pool.execute(
        "update participations set investor_organization_id ="
        " (select id from organizations where slug = 'lead-fund')"
        " where id = (select p.id from participations p join rounds r on r.id = p.round_id"
        " join organizations o on o.id = p.investor_organization_id"
        " where o.slug = 'other-fund' and r.round_type = 'SERIES_C')"
    )
    assert await _counts(client) == (4, 2)
    await pool.execute(
        "delete from rounds where round_type = 'SERIES_B' and company_id ="
        " (select id from organizations where slug = 'startup')"
    )
    counted = await pool.fetch(
        "select o.slug, count(p.id) as n from organizations o left join participations p"
        " on p.investor_organization_id = o.id where o.slug in ('lead-fund', 'other-fund')"
        " group by o.slug order by o.slug"
    )
    assert await _counts(client) == tuple(r["n"] for r in counted)
    assert await _counts(client) == (3, 1)
