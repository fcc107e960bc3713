"""A load generator for Fleet Telemetry: vehicles (mutual-TLS WebSockets, certificates from the
bench's CA) each keeping a window of messages in flight, every message 25 Datums, counting what
the listener acknowledges and how long each acknowledgement took. Run as its own process by
`bench.fleet_telemetry`; prints one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

from voltgate.fleettelemetry import envelope, protos
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context

DATUMS = 25
_ITEMS: list[tuple[str, object]] = [
    ("Soc", 55.5),
    ("BatteryLevel", 55.1),
    ("ChargeLimitSoc", 80),
    ("ChargeAmps", 16.0),
    ("ACChargingPower", 11.0),
    ("ACChargingEnergyIn", 12.5),
    ("ChargerVoltage", 230.0),
    ("ChargeState", "Charging"),
    ("DetailedChargeState", "Charging"),
    ("EnergyRemaining", 41.0),
    ("EstBatteryRange", 180.0),
    ("RatedRange", 190.0),
    ("InsideTemp", 21.5),
    ("OutsideTemp", 9.0),
    ("Location", (48.137, 11.575)),
    ("VehicleSpeed", 0.0),
    ("Gear", "P"),
    ("Odometer", 12345.6),
    ("Locked", True),
    ("ChargePortDoorOpen", True),
    ("PreconditioningEnabled", False),
    ("ChargeCurrentRequest", 16),
    ("ChargeCurrentRequestMax", 32),
    ("IdealBatteryRange", 200.0),
    ("PackVoltage", 390.0),
]
assert len(_ITEMS) == DATUMS


def vins(count: int, offset: int = 0) -> list[str]:
    return [f"5YJ3E1EA7BN{n + offset:06d}" for n in range(count)]


async def _vehicle(
    url: str, vin: str, context: object, window: int, until: float, out: dict[str, list[float]]
) -> None:
    latencies = out.setdefault("latencies", [])
    sent_at: dict[bytes, float] = {}
    room = asyncio.Semaphore(window)
    payload = protos.payload(vin, time.time(), _ITEMS)
    sender = b"vehicle_device." + vin.encode()
    async with connect(url, ssl=context, compression=None, proxy=None, max_size=1 << 20) as ws:

        async def read() -> None:
            async for frame in ws:
                if type(frame) is str:
                    continue  # the configuration the listener pushes
                txid, _ = envelope.decode_ack(frame)  # type: ignore[arg-type]
                started = sent_at.pop(txid, None)
                if started is not None:
                    latencies.append(time.perf_counter() - started)
                    room.release()

        reader = asyncio.create_task(read())
        n = 0
        while time.monotonic() < until:
            await room.acquire()
            n += 1
            txid = b"%s-%d" % (vin.encode(), n)
            sent_at[txid] = time.perf_counter()
            await ws.send(
                envelope.encode_stream(
                    txid=txid,
                    topic=b"V",
                    message_id=txid,
                    created_at=int(time.time()),
                    sender_id=sender,
                    payload=payload,
                    device_type=b"vehicle_device",
                    device_id=vin.encode(),
                )
            )
        # What was sent is acknowledged before the vehicle leaves (or counted as not).
        deadline = time.monotonic() + 10
        while sent_at and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        reader.cancel()
        out.setdefault("unacked", []).append(float(len(sent_at)))


async def main(args: argparse.Namespace) -> None:
    master = bytes.fromhex(os.environ["BENCH_MASTER_KEY_HEX"])
    authority = CertificateAuthority.open(Path(args.ca), master)
    contexts = []
    for vin in vins(args.vehicles, args.offset):
        cert, key = authority.issue_vehicle(vin)
        contexts.append((vin, client_context(authority.cert_pem, cert, key)))
    out: dict[str, list[float]] = {}
    start_cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    until = started + args.duration
    await asyncio.gather(
        *(_vehicle(args.url, vin, ctx, args.window, until, out) for vin, ctx in contexts)
    )
    elapsed = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime - start_cpu.ru_utime) + (usage.ru_stime - start_cpu.ru_stime)
    latencies = sorted(out.get("latencies", []))
    sys.stdout.write(
        orjson.dumps(
            {
                "acked": len(latencies),
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "unacked": sum(out.get("unacked", [])),
                "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
                "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
            }
        ).decode()
        + "\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
