"""GET /v1/rounds answered as JSON built inside PostgreSQL, in one statement.

The same JSON as api/rest/representations.py renders from rows (snake_case, ids as in
GraphQL, money as decimal strings, dates with their precision and label), built by
the database so a list costs one statement; tests hold both renderings to one answer.
"""

from db.infra.pagination import PageRequest
from db.infra.types import Executor
from db.json.sources import RoundsArgs, Source, rounds
from db.json.sql import SqlBuilder, fuzzy_date_text, json_object_sql
from db.participations import participation_order
from db.rounds import RoundFilter, RoundOrder


def _money(column: str) -> str:
    return (
        f"case when ({column}).qualifier is null then null else json_build_object("
        f"'qualifier', ({column}).qualifier, 'currency', ({column}).currency,"
        f" 'low', ({column}).low::text, 'high', ({column}).high::text,"
        f" 'usd', ({column}).usd::text) end"
    )


def _fuzzy_date(day: str, precision: str) -> str:
    return (
        f"case when {day} is null then null else json_build_object("
        f"'date', {day}, 'precision', {precision}, 'text', {fuzzy_date_text(day, precision)}) end"
    )


def _ref(prefix: str, table: str) -> str:
    return (
        f"json_build_object('id', public_id('{prefix}', {table}.id), 'slug', {table}.slug,"
        f" 'name', {table}.name)"
    )


_PARTICIPATION = """json_build_object(
    'id', public_id('par', p.id), 'round_id', public_id('rnd', p.round_id),
    'investor', case when io.id is not null
        then json_build_object('kind', 'organization', 'id', public_id('org', io.id),
                               'slug', io.slug, 'name', io.name)
        else json_build_object('kind', 'person', 'id', public_id('per', ip.id),
                               'slug', ip.slug, 'name', ip.name) end,
    'amount', {amount}, 'is_lead', p.is_lead, 'status', p.status, 'stage', p.stage)"""


def _round(table: str) -> str:
    participation = _PARTICIPATION.format(amount=_money("p.amount"))
    return json_object_sql(
        [
            ("id", f"public_id('rnd', {table}.id)"),
            (
                "company",
                f"(select {_ref('org', 'o')} from organizations o where o.id = {table}.company_id)",
            ),
            ("round_type", f"{table}.round_type"),
            ("reported_label", f"{table}.reported_label"),
            ("status", f"{table}.status"),
            ("stage", f"{table}.stage"),
            ("announced", _fuzzy_date(f"{table}.announced_on", f"{table}.announced_precision")),
            ("announced_on", f"{table}.announced_on"),
            ("closed_on", f"{table}.closed_on"),
            (
                "expected_close",
                _fuzzy_date(f"{table}.expected_close_on", f"{table}.expected_close_precision"),
            ),
            ("amount", _money(f"{table}.amount")),
            ("target_amount", _money(f"{table}.target_amount")),
            ("pre_money_valuation", _money(f"{table}.pre_money_valuation")),
            ("post_money_valuation", _money(f"{table}.post_money_valuation")),
            (
                "participations",
                f"""coalesce((
                select json_agg({participation}
                                order by {participation_order("p")})
                from participations p
                left join organizations io on io.id = p.investor_organization_id
                left join people ip on ip.id = p.investor_person_id
                where p.round_id = {table}.id), '[]'::json)""",
            ),
        ]
    )


_MONEY_COLUMNS = ("amount", "target_amount", "pre_money_valuation", "post_money_valuation")


def _round_objects(table: str) -> str:
    """How many JSON objects `_round(table)` holds: the round, its company, its two
    fuzzy dates and four amounts when present, and each participation with its investor
    and its amount when present. What the answer's price is measured in (api/guard/
    answer_size.py), counted here so that the API need not parse the answer to count."""
    present = [
        f"({table}.announced_on is not null)::int",
        f"({table}.expected_close_on is not null)::int",
        *(f"(({table}.{m}).qualifier is not null)::int" for m in _MONEY_COLUMNS),
    ]
    return (
        f"2 + {' + '.join(present)} + (select (2 * count(*) + count((p.amount).qualifier))::int"
        f" from participations p where p.round_id = {table}.id)"
    )


def _statement(
    filter: RoundFilter, order: RoundOrder, page: PageRequest, scope: str, *, counted: bool
) -> tuple[str, list[object]]:
    sql = SqlBuilder()
    source = rounds(sql, RoundsArgs(filter, order, page, scope))
    body = list_page_sql(source, _round("x"))
    if not counted:
        return f"select ({body})::text", sql.args
    objects = (
        f"(select coalesce(sum({_round_objects('x')}), 0)::int"
        f" from {source.fetched} x where x.n <= {source.size})"
    )
    return f"select ({body})::text, {objects}", sql.args


def list_page_sql(source: Source, item: str) -> str:
    """A REST list's page of `source`, `{"data": [...], "next_cursor": ...}`, each row `x`
    of it rendered by `item`."""
    return json_object_sql(
        [
            (
                "data",
                f"coalesce((select json_agg({item} order by x.n)"
                f" from {source.fetched} x where x.n <= {source.size}), '[]'::json)",
            ),
            (
                "next_cursor",
                f"(select {source.cursor('x')} from {source.fetched} x"
                f" where x.n = {source.size}"
                f" and exists (select 1 from {source.fetched} y where y.n > {source.size}))",
            ),
        ]
    )


def rest_rounds_statement(
    *, filter: RoundFilter, order: RoundOrder, page: PageRequest, scope: str
) -> tuple[str, list[object]]:
    """The statement (and its arguments) whose one text value is a page of
    GET /v1/rounds: `{"data": [...], "next_cursor": ...}`."""
    return _statement(filter, order, page, scope, counted=False)


async def render_rest_rounds(
    db: Executor, *, filter: RoundFilter, order: RoundOrder, page: PageRequest, scope: str
) -> tuple[bytes, int]:
    """A page of GET /v1/rounds, as the JSON bytes of the answer, and the JSON objects
    its `data` holds."""
    statement, args = _statement(filter, order, page, scope, counted=True)
    row = await db.fetchrow(statement, *args)
    assert row is not None
    text: str = row[0]
    return text.encode(), row[1]
