"""Tell an outage of our infrastructure (a database unreachable, restarting or gone mid-call) from an answer.

An outage is waited out (retried with backoff, reported as 503), never turned into a business failure;
everything else (a refusal, a constraint, a bug) is not an outage.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError

# What asyncpg raises when the server is not there to answer: refused or dropped connections (class 08),
# shutdowns and crash recovery (57P01-57P03), a full server, and a connection that is already closed.
_ASYNCPG_OUTAGES = (asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
                    asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError, asyncpg.InterfaceError)


def is_outage(exc: BaseException | None) -> bool:
    """True when `exc`, or an error it wraps, says the database could not be reached or dropped the connection."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        # OSError covers refused and reset sockets, a missing socket file and timeouts (TimeoutError).
        if isinstance(exc, (OSError, *_ASYNCPG_OUTAGES)):
            return True
        if isinstance(exc, DBAPIError):
            if exc.connection_invalidated:
                return True
            exc = exc.orig
            continue
        exc = exc.__cause__
    return False
