"""Throughput of 1 vs N `serve` processes on ONE data root (docs/SCALING.md, step 2).

Starts a local cluster (``testing.cluster.FFLocalCluster``: every instance a `serve` process on
127.0.0.1, port 0, stopped and reaped on exit) for each instance count given, then drives
``add_message`` over HTTP from this process: ``--clients`` keep-alive clients, client ``c`` sends
to instance ``c % N`` and writes to its own user and session (so the figure is the servers', not
one session's lock). Prints requests/s and p95 per instance count; each client then reads its
session back and exits with an error if an acknowledged message is missing.

    python scripts/scale_probe.py --instances 1,2 --clients 16 --requests 3000

Durability is the configured default (``always``: fsync before each append returns). Figures from
a shared or loaded machine say little: note the load average printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.cluster import FFLocalCluster


async def _measure(instances: int, clients: int, requests: int, work: Path) -> dict[str, float]:
    env = {"FF_SERVICE__RATE_LIMIT": "1000000/second"}
    async with FFLocalCluster(instances=instances, data_dir=work / f"root{instances}", env=env, tcp=False, udp=False) as cluster:
        headers = {"Authorization": f"Bearer {cluster.token()}"}
        nodes = cluster.instances
        latencies: list[float] = []
        per_client = [requests // clients + (1 if c < requests % clients else 0) for c in range(clients)]

        async def client(c: int) -> None:
            user = f"probe{c:03d}"
            async with httpx.AsyncClient(base_url=nodes[c % len(nodes)].base_url, headers=headers, timeout=60) as http:
                made = await http.post(f"/v1/users/{user}/sessions", json={"title": "probe"})
                made.raise_for_status()
                path = f"/v1/users/{user}/sessions/{made.json()['session_id']}/messages"
                for i in range(per_client[c]):
                    started = time.perf_counter()
                    sent = await http.post(path, json={"role": "user", "content": f"message {i} of client {c}"})
                    sent.raise_for_status()
                    latencies.append(time.perf_counter() - started)
                stored = await http.get(path, params={"limit": per_client[c]})  # every acknowledged message is there
                stored.raise_for_status()
                if len(stored.json()) != per_client[c]:
                    raise SystemExit(f"client {c}: {per_client[c]} acknowledged, {len(stored.json())} stored")

        began = time.perf_counter()
        await asyncio.gather(*(client(c) for c in range(clients)))
        elapsed = time.perf_counter() - began  # includes the read-back: one GET per client
    return {"requests_per_s": requests / elapsed, "p95_ms": 1000 * statistics.quantiles(latencies, n=20)[18],
            "seconds": elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="1,2", help="comma-separated instance counts (default 1,2)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ff_scale_probe_") as folder:
        for count in (int(part) for part in args.instances.split(",")):
            load = os.getloadavg()[0]
            result = asyncio.run(_measure(count, args.clients, args.requests, Path(folder)))
            print(f"instances={count} clients={args.clients} requests={args.requests}: "
                  f"{result['requests_per_s']:.0f} req/s, p95 {result['p95_ms']:.1f} ms "
                  f"({result['seconds']:.1f} s; load average before {load:.1f}, {os.cpu_count()} CPUs)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
