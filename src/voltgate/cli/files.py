"""The open files a server needs: each connection is one file in its worker, besides the
files the worker holds for itself. Raised at start where the hard limit allows."""

from __future__ import annotations

import structlog

from voltgate.config import Settings

log = structlog.get_logger("voltgate.serve")

# Open files a worker holds besides its connections: the listener, event loops, database and
# cache connections, logs (33 measured at rest on SQLite), with room to spare.
_FILES_BESIDES_CONNECTIONS = 256


def _open_file_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (the workers inherit it); the soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    target = max(soft, wanted) if hard == infinity else hard
    if soft != infinity and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("open_file_limit_not_raised", soft=soft, hard=hard, error=str(exc))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == infinity else soft


def connections_allowed(config: Settings) -> int:
    """max_connections, lowered to what the open-file limit leaves: connections that took every
    file would leave none for the worker's database, cache and log files."""
    needed = config.max_connections + _FILES_BESIDES_CONNECTIONS
    limit = _open_file_limit(needed)
    allowed = min(config.max_connections, limit - min(_FILES_BESIDES_CONNECTIONS, limit // 4))
    log.info("open_file_limit", limit=limit, needed=needed, max_connections=allowed)
    if allowed < config.max_connections:
        log.warning(
            "open_file_limit_below_max_connections",
            limit=limit,
            needed=needed,
            max_connections=allowed,
            hint="raise the hard limit (ulimit -Hn; systemd LimitNOFILE=) or lower max_connections",
        )
    return allowed
