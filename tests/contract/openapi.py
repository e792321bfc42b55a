"""Checking real HTTP answers against openapi/openapi.yaml with openapi-core."""

import functools
import json

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from api.rest.docs import openapi_spec


@functools.cache
def openapi() -> OpenAPI:
    # openapi-core reads application/json natively; problem+json is JSON as well.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(openapi_spec(), config=config)


class _Request:
    """An httpx request in the shape openapi-core reads."""

    def __init__(self, request: httpx.Request) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )
        self.host_url = f"{request.url.scheme}://{request.url.netloc.decode()}"
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "")


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.content_type = response.headers.get("content-type", "").lower()
        self.data = response.content


def check_response(response: httpx.Response) -> None:
    """Fail unless the answer (status, headers, body) is one the spec allows."""
    openapi().validate_response(_Request(response.request), _Response(response))


async def check_rest_response(response: httpx.Response) -> None:
    """An httpx event hook: every /v1 answer a test sees must fit the spec.

    A 405 answers a method the spec does not have, so there is no operation to check
    it against; it must still be a problem+json.
    """
    if not response.request.url.path.startswith("/v1/"):
        return
    await response.aread()
    if response.status_code == 405:
        assert response.headers["content-type"] == "application/problem+json"
        return
    check_response(response)
