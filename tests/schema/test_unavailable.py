"""A resolver that cannot reach the database answers SERVICE_UNAVAILABLE, not a masked
INTERNAL_SERVER_ERROR (api/graphql/endpoint.py turns that code into a 503)."""

from db.infra.availability import PoolLimits
from db.infra.pool import open_pool
from schema.context import Context
from schema.schema import schema
from tests.api.processes import free_port


async def test_a_resolver_without_a_database_answers_service_unavailable() -> None:
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    # The pool opens even so, empty; each statement then fails to connect.
    async with open_pool(nobody, limits=PoolLimits(1, 100), min_size=1, max_size=2) as pool:
        result = await schema.execute(
            "{ organizations(first: 1) { totalCount } }", context_value=Context(pool=pool)
        )
    assert result.data is None
    [error] = result.errors or []
    assert error.path == ["organizations"]
    assert error.message == "the database is unavailable; retry later"
    assert error.extensions == {"code": "SERVICE_UNAVAILABLE"}
