"""The app's routes and the spec's paths are one set; the spec is valid OpenAPI 3.1."""

import httpx
from starlette.routing import Mount, Route

from api.app import create_app
from api.rest.docs import openapi_spec
from tests.contract.openapi import openapi


def _rest_routes() -> set[tuple[str, str]]:
    app = create_app("postgresql://unused@localhost/unused")
    found = set()
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/v1":
            for sub in route.routes:
                assert isinstance(sub, Route)
                for method in sub.methods or ():
                    if method != "HEAD":
                        found.add((f"/v1{sub.path}", method.lower()))
    return found


def test_routes_and_spec_paths_are_the_same_set() -> None:
    spec = openapi_spec()
    in_spec = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert _rest_routes() == in_spec


def test_spec_is_valid_openapi_3_1() -> None:
    # Loading validates the document against the OpenAPI 3.1 schema.
    openapi()
    assert openapi_spec()["openapi"] == "3.1.0"


def test_every_operation_documents_its_errors() -> None:
    expected = {
        "get": {"400", "401", "406", "429", "503"},
        "post": {"400", "401", "403", "413", "415", "429", "503"},
        "patch": {"400", "401", "403", "413", "415", "429", "503"},
        "delete": {"401", "403", "429", "503"},
    }
    for path, item in openapi_spec()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":  # shared by the path's operations
                continue
            documented = set(operation["responses"])
            assert expected[method] <= documented, (method, path)


# What a schema object may hold in OpenAPI 3.1: JSON Schema 2020-12's keywords and
# OpenAPI's own. A key outside them is a mistake, such as YAML's reading of an unquoted
# comma in a flow mapping (`{description: What was wrong, for a person.}` has a key
# "for a person." with no value).
SCHEMA_KEYWORDS = {
    *("$schema", "$id", "$ref", "$defs", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor"),
    *("type", "enum", "const", "format", "title", "description", "default", "examples"),
    *("readOnly", "writeOnly", "deprecated", "nullable"),
    *("allOf", "anyOf", "oneOf", "not", "if", "then", "else"),
    *("properties", "required", "additionalProperties", "patternProperties"),
    *("propertyNames", "minProperties", "maxProperties", "unevaluatedProperties"),
    *("dependentRequired", "dependentSchemas"),
    *("items", "prefixItems", "contains", "minItems", "maxItems", "uniqueItems"),
    *("minContains", "maxContains", "unevaluatedItems"),
    *("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    *("minLength", "maxLength", "pattern", "contentMediaType", "contentEncoding"),
    *("discriminator", "xml", "externalDocs", "example"),
}
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMAS = ("items", "not", "if", "then", "else", "contains", "additionalProperties")


def _stray_schema_keys(schema: object, where: str) -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [f"{where}: {key!r}" for key in schema if key not in SCHEMA_KEYWORDS]
    for key in _SUBSCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            found += _stray_schema_keys(sub, f"{where}/{key}/{name}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key, [])):
            found += _stray_schema_keys(sub, f"{where}/{key}/{i}")
    for key in _SUBSCHEMAS:
        found += _stray_schema_keys(schema.get(key), f"{where}/{key}")
    return found


def _schemas(node: object, where: str = "#") -> list[tuple[object, str]]:
    """Every schema object of the document: components' and those inline under `schema`."""
    found: list[tuple[object, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema":
                found.append((value, f"{where}/schema"))
            elif key == "schemas" and where == "#/components":
                found += [(sub, f"{where}/schemas/{name}") for name, sub in value.items()]
            elif key != "examples":
                found += _schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _schemas(item, f"{where}/{i}")
    return found


async def test_the_served_spec_has_no_stray_keys(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = _schemas(spec)
    assert len(schemas) > 20
    stray = [key for schema, where in schemas for key in _stray_schema_keys(schema, where)]
    assert stray == []
