"""roundStats on a hand-made set whose every figure is computed by hand below.

Seven rounds of three companies (USA, FRA, none), every qualifier, two undisclosed, one
undated, and three investors (two organizations, one person):

| # | company | type     | status    | stage     | announced  | amount       | usd  | investors   |
| 1 | A (USA) | SEED     | CONFIRMED | CLOSED    | 2024-01-15 | EXACT 100    | 100  | Alpha, Beta |
| 2 | A       | SERIES_A | REPORTED  | IN_TALKS  | 2024-02-10 | UP_TO 1000   | 1000 | Beta        |
| 3 | B (FRA) | SEED     | REPORTED  | ANNOUNCED | 2024-08-01 | RANGE 200-400| 300  | Alpha, Zeta |
| 4 | B       | SEED     | CONFIRMED | CLOSED    | 2024-08-20 | AT_LEAST 50  | 50   |             |
| 5 | C (-)   | SEED     | REPORTED  | CLOSED    | 2024-09-30 | ABOUT 80     | 80   | Alpha       |
| 6 | C       | SERIES_A | DENIED    | ABANDONED | (none)     | (none)       |      |             |
| 7 | A       | SEED     | CONFIRMED | CLOSED    | 2024-07-01 | (none)       |      |             |

Percentiles interpolate linearly (percentile_cont): of n sorted values, the p-th is at
position p * (n - 1) counted from 0.
"""

from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from tests.graphql import error_codes, graphql, graphql_data

QUERY = """
query ($groupBy: [RoundDimension!]!, $period: Period, $filter: RoundFilter) {
  roundStats(groupBy: $groupBy, period: $period, filter: $filter) {
    key {
      period { date precision text } roundType status stage countryCode
      investor { __typename name }
    }
    count disclosedCount
    amountUsd { sum median p25 p75 min max }
    boundedCount { upTo atLeast range about }
  }
}
"""


@pytest.fixture(scope="module", autouse=True)
async def rounds(pool: Pool) -> None:
    await pool.execute(
        """
        insert into organizations (slug, name, country_code) values
            ('a', 'A', 'USA'), ('b', 'B', 'FRA'), ('c', 'C', null),
            ('alpha', 'Alpha Fund', null), ('zeta', 'Zeta Capital', null);
        insert into people (slug, name) values ('beta', 'Beta Angel');
        create temporary table given (n int, company text, type round_type,
            status deal_status, stage deal_stage, announced date, amount money_estimate);
        insert into given values
            (1, 'a', 'SEED', 'CONFIRMED', 'CLOSED', '2024-01-15',
             row('EXACT', 'USD', 100, 100, 100)),
            (2, 'a', 'SERIES_A', 'REPORTED', 'IN_TALKS', '2024-02-10',
             row('UP_TO', 'USD', null, 1000, 1000)),
            (3, 'b', 'SEED', 'REPORTED', 'ANNOUNCED', '2024-08-01',
             row('RANGE', 'USD', 200, 400, 300)),
            (4, 'b', 'SEED', 'CONFIRMED', 'CLOSED', '2024-08-20',
             row('AT_LEAST', 'USD', 50, null, 50)),
            (5, 'c', 'SEED', 'REPORTED', 'CLOSED', '2024-09-30',
             row('ABOUT', 'USD', 80, 80, 80)),
            (6, 'c', 'SERIES_A', 'DENIED', 'ABANDONED', null, null),
            (7, 'a', 'SEED', 'CONFIRMED', 'CLOSED', '2024-07-01', null);
        insert into rounds (id, company_id, round_type, status, stage, announced_on,
                            announced_precision, amount)
        select ('00000000-0000-0000-0000-00000000000' || g.n)::uuid, o.id, g.type, g.status,
               g.stage, g.announced, case when g.announced is null then null else 'DAY' end::
               date_precision, g.amount
        from given g join organizations o on o.slug = g.company;
        insert into participations (round_id, investor_organization_id, investor_person_id,
                                    status, stage)
        select ('00000000-0000-0000-0000-00000000000' || i.n)::uuid, o.id, p.id,
               'REPORTED', 'CLOSED'
        from (values (1, 'alpha'), (3, 'alpha'), (5, 'alpha'), (3, 'zeta'), (1, 'beta'),
                     (2, 'beta')) as i (n, slug)
        left join organizations o on o.slug = i.slug
        left join people p on p.slug = i.slug;
        drop table given;
        """
    )


async def _stats(client: httpx.AsyncClient, *group_by: str, **variables: Any) -> list[Any]:
    data = await graphql_data(client, QUERY, {"groupBy": list(group_by), **variables})
    buckets: list[Any] = data["roundStats"]
    return buckets


def _figures(bucket: dict[str, Any]) -> tuple[Any, ...]:
    a, b = bucket["amountUsd"], bucket["boundedCount"]
    return (
        bucket["count"],
        bucket["disclosedCount"],
        a["sum"],
        a["median"],
        a["p25"],
        a["p75"],
        a["min"],
        a["max"],
        (b["upTo"], b["atLeast"], b["range"], b["about"]),
    )


ZERO = (0, 0, "0", None, None, None, None, None, (0, 0, 0, 0))


async def test_no_dimension_is_one_bucket_of_everything(client: httpx.AsyncClient) -> None:
    [bucket] = await _stats(client)
    # usd sorted: 50, 80, 100, 300, 1000; p25 at position 1, median 2, p75 3.
    assert _figures(bucket) == (7, 5, "1530", "100", "80", "300", "50", "1000", (1, 1, 1, 1))
    assert set(bucket["key"].values()) == {None}


async def test_quarters_fill_the_gap_and_put_undated_rounds_last(
    client: httpx.AsyncClient,
) -> None:
    buckets = await _stats(client, "PERIOD")
    assert [b["key"]["period"] and b["key"]["period"]["text"] for b in buckets] == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
        None,
    ]
    assert buckets[0]["key"]["period"] == {
        "date": "2024-01-01",
        "precision": "QUARTER",
        "text": "2024-Q1",
    }
    # Q1: 100 and 1000 (an upper bound). Q3: 300 (a range), 50 (a lower bound), 80 (about)
    # and round 7, undisclosed. Sorted 50, 80, 300: p25 at 0.5 is 65, p75 at 1.5 is 190.
    assert [_figures(b) for b in buckets] == [
        (2, 2, "1100", "550", "325", "775", "100", "1000", (1, 0, 0, 0)),
        ZERO,
        (4, 3, "430", "80", "65", "190", "50", "300", (0, 1, 1, 1)),
        (1, 0, "0", None, None, None, None, None, (0, 0, 0, 0)),
    ]


async def test_only_undated_rounds_make_no_periods(client: httpx.AsyncClient) -> None:
    [bucket] = await _stats(client, "PERIOD", filter={"status": ["DENIED"]})
    assert bucket["key"]["period"] is None
    assert bucket["count"] == 1


async def test_months_and_years(client: httpx.AsyncClient) -> None:
    months = await _stats(client, "PERIOD", period="MONTH")
    assert [b["key"]["period"] and b["key"]["period"]["text"] for b in months] == [
        *(f"2024-{m:02d}" for m in range(1, 10)),
        None,
    ]
    assert [b["count"] for b in months] == [1, 1, 0, 0, 0, 0, 1, 2, 1, 1]
    years = await _stats(client, "PERIOD", period="YEAR")
    assert [(b["key"]["period"] and b["key"]["period"]["text"], b["count"]) for b in years] == [
        ("2024", 6),
        (None, 1),
    ]


async def test_the_filter_bounds_the_periods(client: httpx.AsyncClient) -> None:
    buckets = await _stats(
        client,
        "PERIOD",
        "ROUND_TYPE",
        filter={"announcedFrom": "2024-01-01", "announcedTo": "2024-12-31"},
    )
    assert [(b["key"]["period"]["text"], b["key"]["roundType"], b["count"]) for b in buckets] == [
        ("2024-Q1", "SEED", 1),
        ("2024-Q1", "SERIES_A", 1),
        ("2024-Q2", "SEED", 0),
        ("2024-Q2", "SERIES_A", 0),
        ("2024-Q3", "SEED", 4),
        ("2024-Q3", "SERIES_A", 0),
        ("2024-Q4", "SEED", 0),
        ("2024-Q4", "SERIES_A", 0),
    ]
    assert _figures(buckets[1]) == (
        1,
        1,
        "1000",
        "1000",
        "1000",
        "1000",
        "1000",
        "1000",
        (1, 0, 0, 0),
    )
    # The other key's order comes first when it is listed first.
    by_type = await _stats(
        client,
        "ROUND_TYPE",
        "PERIOD",
        filter={"announcedFrom": "2024-01-01", "announcedTo": "2024-06-30"},
    )
    assert [(b["key"]["roundType"], b["key"]["period"]["text"]) for b in by_type] == [
        ("SEED", "2024-Q1"),
        ("SEED", "2024-Q2"),
        ("SERIES_A", "2024-Q1"),
        ("SERIES_A", "2024-Q2"),
    ]


async def test_status_stage_and_type(client: httpx.AsyncClient) -> None:
    buckets = await _stats(client, "STATUS", "STAGE")
    assert [
        (b["key"]["status"], b["key"]["stage"], b["count"], b["amountUsd"]["sum"]) for b in buckets
    ] == [
        ("REPORTED", "IN_TALKS", 1, "1000"),
        ("REPORTED", "ANNOUNCED", 1, "300"),
        ("REPORTED", "CLOSED", 1, "80"),
        ("CONFIRMED", "CLOSED", 3, "150"),
        ("DENIED", "ABANDONED", 1, "0"),
    ]
    confirmed = await _stats(client, "ROUND_TYPE", filter={"status": ["CONFIRMED"]})
    assert [(b["key"]["roundType"], _figures(b)) for b in confirmed] == [
        ("SEED", (3, 2, "150", "75", "62.5", "87.5", "50", "100", (0, 1, 0, 0))),
    ]


async def test_countries_of_the_companies(client: httpx.AsyncClient) -> None:
    buckets = await _stats(client, "COUNTRY")
    assert [(b["key"]["countryCode"], b["count"], b["amountUsd"]["sum"]) for b in buckets] == [
        ("FRA", 2, "350"),
        ("USA", 3, "1100"),
        (None, 2, "80"),
    ]


async def test_investors_count_each_round_they_are_in(client: httpx.AsyncClient) -> None:
    buckets = await _stats(client, "INVESTOR")
    assert [
        (b["key"]["investor"], b["count"], b["amountUsd"]["sum"], b["boundedCount"]["upTo"])
        for b in buckets
    ] == [
        ({"__typename": "Organization", "name": "Alpha Fund"}, 3, "480", 0),
        ({"__typename": "Person", "name": "Beta Angel"}, 2, "1100", 1),
        ({"__typename": "Organization", "name": "Zeta Capital"}, 1, "300", 0),
        (None, 3, "50", 0),
    ]


async def test_the_filter_is_the_one_of_rounds(client: httpx.AsyncClient) -> None:
    flt = {"minAmountUsd": "90", "roundType": ["SEED", "SERIES_A"]}
    listed = await graphql_data(
        client,
        "query ($f: RoundFilter) { rounds(filter: $f, first: 100) { totalCount } }",
        {"f": flt},
    )
    [bucket] = await _stats(client, filter=flt)
    assert bucket["count"] == listed["rounds"]["totalCount"] == 3


async def test_refusals(client: httpx.AsyncClient) -> None:
    answer = await graphql(client, QUERY, {"groupBy": ["PERIOD", "PERIOD"]})
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert "groupBy" in answer["errors"][0]["message"]
    answer = await graphql(
        client,
        QUERY,
        {
            "groupBy": ["PERIOD", "INVESTOR"],
            "period": "MONTH",
            "filter": {"announcedFrom": "0001-01-01", "announcedTo": "9999-12-31"},
        },
    )
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert "10,000 buckets" in answer["errors"][0]["message"]
