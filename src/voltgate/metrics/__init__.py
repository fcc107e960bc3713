"""Prometheus metrics of one server process: `GET /metrics` on the API's port for a token with
`voltgate:admin`, and without a token on 127.0.0.1:VOLTGATE_METRICS_PORT when that is set.

Two sources, one registry per app (so apps in one process, as in tests, keep apart):
- the router observes each API request once, into a histogram its route was given when
  compiled (`requests.py`);
- everything else is read when scraped from the counters the services keep (`collector.py`),
  plus prometheus_client's process collector (CPU, memory, open files, start time).

Each granian worker is a process with its own series, and a scrape of `/metrics` reaches
whichever worker accepts it. For series that add up, run one worker per instance and scale out
with instances, each scraped on its own (prometheus_client's multiprocess mode cannot read the
services' own counters). The loopback port is refused with more than one worker.
"""

from __future__ import annotations

import structlog
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, ProcessCollector
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from voltgate.metrics.loopback import Loopback
from voltgate.metrics.requests import Requests

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus version reads
log = structlog.get_logger("voltgate.metrics")


class Metrics:
    def __init__(self, port: int | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Requests()
        self.registry.register(self.requests)
        ProcessCollector(registry=self.registry)
        self.loopback = None if port is None else Loopback(port, self.render, CONTENT_TYPE)

    def watch(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        """The Prometheus text exposition of every series."""
        return generate_latest(self.registry)

    async def start(self) -> None:
        if self.loopback is not None:
            await self.loopback.start()
            log.info("metrics_served", url=f"http://127.0.0.1:{self.loopback.port}/metrics")

    async def stop(self) -> None:
        if self.loopback is not None:
            await self.loopback.stop()
