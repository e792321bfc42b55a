"""schemathesis over the GraphQL schema, on a real server: every query and mutation field,
with a fixed seed and a bounded number of examples each.

No answer may be a 5xx, an INTERNAL_SERVER_ERROR, or break the schema (a null where it
promises none); an invalid query (negative cases) must be refused with an error.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from db.infra.types import Pool
from db.seed import seed
from tests import figures
from tests.conftest import bearer, create_key
from tests.contract.live import serving

SCHEMA_FILE = Path(__file__).parents[2] / "schema" / "schema.graphql"
schema = schemathesis.graphql.from_path(SCHEMA_FILE)
# Decimals as the scalar takes them (strings), along with ones it must refuse.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
        st.sampled_from(["NaN", "-Infinity", "1e309", "-1", "99999999999999999999999"]),
    ).map(schemathesis.graphql.nodes.String),
)
_ANSWERS: list[tuple[str, int]] = []


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[str]:
    with serving(create_app(db_url, pool_min_size=1, pool_max_size=4)) as url:
        yield f"{url}/graphql"


@pytest.fixture(scope="module")
async def key(db_url: str, pool: Pool) -> str:
    async with pool.acquire() as conn:
        await seed(conn)
    return await create_key(db_url)


@schema.parametrize()
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_graphql_keeps_its_contract(case: schemathesis.Case[Any], server: str, key: str) -> None:
    # Left out, as for REST: "schema-valid data is accepted". The schema cannot say that
    # an id must exist or a cursor be one the API issued; the documented answer to those
    # is a BAD_USER_INPUT error, which the other checks still hold to the schema.
    response = case.call_and_validate(
        base_url=server, headers=bearer(key), excluded_checks=[positive_data_acceptance]
    )
    _ANSWERS.append((case.operation.label, response.status_code))


def test_every_field_was_fuzzed() -> None:
    fields = {
        f"{kind.title()}.{name}"
        for kind, root in (
            ("query", schema.client_schema.query_type),
            ("mutation", schema.client_schema.mutation_type),
        )
        if root is not None
        for name in root.fields
    }
    figures.record(
        f"fuzz, schemathesis over the GraphQL schema: {len(_ANSWERS)} cases answered over "
        f"{len(fields)} root fields"
    )
    assert {label for label, _ in _ANSWERS} == fields
