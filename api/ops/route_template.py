"""The route template a request goes to ("/v1/rounds/{id}"), for metric labels and logs.

Found by asking the routes, the way the router will, before the request runs: a request
refused by a middleware (401, 429, 413) never reaches the router but still has a route.
Raw paths would make a label value of every id; templates keep them few.
"""

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

UNMATCHED = "<unmatched>"


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    found = _template(routes, scope)
    return UNMATCHED if found is None else found


def _template(routes: Sequence[BaseRoute], scope: Scope) -> str | None:
    # A full match wins; else the first partial one (the method is wrong: a 405), as in
    # starlette's Router.
    partial = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            if not route.routes:  # an app of its own (static files): the rest is its own
                template = route.path + "/{path}"
            else:
                inner = _template(route.routes, {**scope, **child_scope})
                if inner is None:
                    continue
                template = route.path + inner
        elif isinstance(route, Route):
            template = route.path
        else:
            continue
        if match is Match.FULL:
            return template
        partial = partial or template
    return partial
