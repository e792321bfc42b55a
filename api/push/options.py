"""How webhook workers behave; `dealgraph serve` and `dealgraph worker` read them from
the DEALGRAPH_WEBHOOK_ settings (api/cli/settings.py)."""

import datetime
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PushOptions:
    # Loopback, private, link-local and metadata targets: refused unless set (local
    # development and tests).
    allow_private: bool = False
    # Deliveries one process sends at once (each holds a database connection meanwhile).
    concurrency: int = 4
    connect_timeout: float = 5.0
    total_timeout: float = 10.0
    # How much of a receiver's answer is read (for the delivery log); the rest is dropped.
    response_cap_bytes: int = 4096
    # Retries after a failure: base * 2^(attempt-1), capped, with jitter, for the window.
    retry_base: float = 5.0
    retry_cap: float = 3600.0
    retry_window: datetime.timedelta = datetime.timedelta(hours=24)
    # An endpoint with no successful delivery for this long is disabled.
    disable_after: datetime.timedelta = datetime.timedelta(hours=24)
    # How often an idle worker looks at the feed and the queue without a notification.
    poll_interval: float = 1.0
    # Changes read from the feed per dispatching transaction.
    batch: int = 200

    def retry_in(self, attempts: int) -> datetime.timedelta:
        """The wait after the `attempts`-th failure: exponential, capped, and jittered
        over its upper half so that retries of many deliveries do not come in lockstep."""
        ceiling = min(self.retry_cap, self.retry_base * 2 ** (attempts - 1))
        return datetime.timedelta(seconds=ceiling * (0.5 + random.random() / 2))  # noqa: S311
