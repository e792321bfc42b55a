"""Values the database cannot take, told apart where they come in.

Both faces check a client's values against these rules before they travel, so that one
that cannot be stored or compared is refused naming its field, instead of failing in
PostgreSQL or in the driver as an internal error:

- text holds no NUL (U+0000): PostgreSQL's text types cannot store it;
- a time with a zone has a UTC form in years 1 to 9999: asyncpg sends times in UTC, and
  Python's datetime has no 0001-01-01T00:00:00+01:00 in UTC.
"""

import datetime

NUL = "\x00"

Path = tuple[str | int, ...]


def nul_path(value: object) -> Path | None:
    """Where a string holding a NUL is in a JSON value (keys included), or None."""
    # A loop, not recursion: JSON nested a thousand deep must not exhaust the stack.
    pending: list[tuple[Path, object]] = [((), value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return path
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                if NUL in key:
                    return (*path, key)
                pending.append(((*path, key), child))
        elif isinstance(item, list):
            pending.extend(((*path, i), child) for i, child in reversed(list(enumerate(item))))
    return None


def check_moment(moment: datetime.datetime) -> None:
    """Raise ValueError for a time with a zone that has no UTC form."""
    if moment.tzinfo is None:
        return
    try:
        moment.astimezone(datetime.UTC)
    except OverflowError:
        raise ValueError(
            f"{moment.isoformat()} is out of range: in UTC it falls outside years 1 to 9999"
        ) from None
