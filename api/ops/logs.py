"""Server logs as JSON lines on stderr: each carries the id of the request it was written
for, and no secret.

The request id lives in a context variable set by api/ops/observe.py, so every line logged
while a request is handled (by a resolver, the database layer, a task it starts) carries
it without being handed the id. Secrets are kept out twice: nothing logs headers, and
the formatter still masks anything shaped like an API key, a bearer token or a password
in a database URL, in case a message or an error quotes one.
"""

import datetime
import logging
import re
from contextvars import ContextVar
from typing import Any

import orjson

from api.guard.keys import SECRET_PREFIX

REQUEST_ID: ContextVar[str | None] = ContextVar("dealgraph_request_id", default=None)

_MASKS = (
    (re.compile(re.escape(SECRET_PREFIX) + r"[A-Za-z0-9_-]+"), SECRET_PREFIX + "[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1[redacted]"),
    (re.compile(r"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@"), r"\1:[redacted]@"),
)


def redact(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, pid, message, the request id when
    there is one, the record's `fields` (pass `extra={"fields": {...}}`), and the error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            # Which server process wrote it, when several share one log.
            "pid": record.process,
            "message": redact(record.getMessage()),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            # The client's X-Request-Id: a key pasted there is masked like any other.
            entry["request_id"] = redact(request_id)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({name: _redacted(value) for name, value in fields.items()})
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


# For logging.config.dictConfig, and uvicorn's log_config (which each worker process
# applies again, hence names rather than objects).
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "api.ops.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
        "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        # api/ops/observe.py writes one line per request, with more in it.
        "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}
