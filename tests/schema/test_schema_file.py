"""schema/schema.graphql is the reviewed contract: the live schema must match it."""

from pathlib import Path

from schema.schema import schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema" / "schema.graphql"


def test_live_schema_matches_the_committed_file() -> None:
    assert schema.as_str() + "\n" == SCHEMA_FILE.read_text(), (
        "the GraphQL schema changed; review the change and update the file with\n"
        '  uv run python -c "from schema.schema import schema; print(schema.as_str())"'
        " > schema/schema.graphql"
    )


def test_contract_names_from_the_design_are_present() -> None:
    sdl = SCHEMA_FILE.read_text()
    for name in (
        "interface Node",
        "interface Investor",
        "type Round implements Node",
        "type Organization implements Node & Investor",
        "type Participation",
        "type MoneyEstimate",
        "type Money",
        "type Claim",
        "type Source implements Node",
        "type StatusEvent",
        "type RoundConnection",
        "type RoundEdge",
        "type PageInfo",
        "input RoundFilter",
        "input RoundOrder",
        "enum AmountQualifier",
        "enum RoundType",
    ):
        assert name in sdl, name
