"""The series read from the runtime's own counters when scraped: nothing is counted for metrics
on the request path beyond what the services already keep (a few integer additions)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from voltgate.commands.readmodel import CommandReadModel
from voltgate.commands.service import Commands
from voltgate.db.engine import Database
from voltgate.histogram import Histogram
from voltgate.identity.delegation import Delegation
from voltgate.identity.endpoints import TokenEndpoint
from voltgate.identity.signing import RequestVerifier
from voltgate.metrics.requests import cumulative
from voltgate.telemetry.service import Telemetry


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the counters are kept."""

    token_endpoint: TokenEndpoint
    delegation: Delegation
    verifier: RequestVerifier
    telemetry: Telemetry
    commands: Commands
    command_store: CommandReadModel
    db: Database


class RuntimeCollector(Collector):
    def __init__(self, sources: Sources) -> None:
        self._s = sources

    def collect(self) -> Iterator[Metric]:
        yield from self._identity()
        yield from self._telemetry()
        yield from self._commands()
        yield from self._db()

    def _identity(self) -> Iterator[Metric]:
        s = self._s
        issued = CounterMetricFamily(
            "voltgate_tokens_issued",
            "Token responses by grant type and client kind (a refresh repeated within the "
            "grace window answers the pair already issued, and counts here too)",
            labels=("grant_type", "kind"),
        )
        for (grant_type, kind), count in list(s.token_endpoint.issued.items()):
            issued.add_metric([grant_type, kind], count)
        yield issued
        delegation = s.delegation
        yield _counter(
            "voltgate_refresh_rotations",
            "Refresh tokens rotated: consumed, a new pair issued (RFC 6749 section 6)",
            delegation.rotations,
        )
        yield _counter(
            "voltgate_refresh_grace_hits",
            "Refresh tokens presented again within the grace window: the same pair answered",
            delegation.grace_hits,
        )
        yield _counter(
            "voltgate_refresh_reuse_detected",
            "Refresh tokens presented again after the grace window: the grant revoked",
            delegation.reuse_detected,
        )
        yield _counter(
            "voltgate_signature_failures",
            "Requests refused for their X-Signature (missing where required, stale, "
            "malformed, not matching, or replayed)",
            s.verifier.failures,
        )

    def _telemetry(self) -> Iterator[Metric]:
        telemetry = self._s.telemetry
        yield _counter(
            "voltgate_telemetry_readings_accepted",
            "Telemetry readings committed and acknowledged (202)",
            telemetry.accepted,
        )
        yield _counter(
            "voltgate_telemetry_commit_failures",
            "Telemetry batches whose commit failed (each of their requests answered 503)",
            telemetry.commit_failures,
        )
        yield GaugeMetricFamily(
            "voltgate_telemetry_pending_readings",
            "Readings gathered for the next telemetry commit (ingest answers 429 past "
            "VOLTGATE_TELEMETRY_MAX_PENDING)",
            value=telemetry.pending,
        )
        yield _histogram(
            "voltgate_telemetry_commit_batch_readings",
            "Readings per telemetry commit (group commit: batches grow with the load)",
            telemetry.batch_sizes,
        )
        yield _histogram(
            "voltgate_telemetry_commit_seconds",
            "Time from a telemetry batch's start to its commit",
            telemetry.commit_seconds,
        )

    def _commands(self) -> Iterator[Metric]:
        moved = CounterMetricFamily(
            "voltgate_commands",
            "Commands this process moved to a status, by type and status: queued by an "
            "operator, delivered to a charger, accepted, rejected, completed or failed as the "
            "charger reported, or expired",
            labels=("type", "status"),
        )
        for (kind, status), count in list(self._s.command_store.moved.items()):
            moved.add_metric([kind, status], count)
        yield moved
        queued = GaugeMetricFamily(
            "voltgate_commands_queued",
            "Commands queued and not yet delivered or expired, by type (every queued command "
            "of the deployment is held in memory)",
            labels=("type",),
        )
        for kind, count in sorted(self._s.command_store.queued_by_type().items()):
            queued.add_metric([kind], count)
        yield queued
        yield GaugeMetricFamily(
            "voltgate_long_polls_open",
            "Chargers' command long-polls open in this process",
            value=self._s.commands.listening,
        )

    def _db(self) -> Iterator[Metric]:
        commits = CounterMetricFamily(
            "voltgate_db_commits",
            "Transactions committed by the group-commit writers",
            labels=("writer",),
        )
        writes = CounterMetricFamily(
            "voltgate_db_writes",
            "Writes committed by the group-commit writers (writes / commits: the mean batch)",
            labels=("writer",),
        )
        for name, writer in self._s.db.writers().items():
            commits.add_metric([name], writer.batches)
            writes.add_metric([name], writer.writes)
        yield commits
        yield writes


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _histogram(name: str, documentation: str, histogram: Histogram) -> HistogramMetricFamily:
    return HistogramMetricFamily(
        name, documentation, buckets=cumulative(histogram), sum_value=histogram.sum
    )
