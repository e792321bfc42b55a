"""The app's routes and the spec's paths are one set; the spec is valid OpenAPI 3.1."""

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
