"""A lean HTTP/1.1 load generator for the benchmarks, run in its own process:

    python -m bench._http_load PLAN.json

The plan names the server (`host`, `port`), the number of concurrent clients
(`concurrency`), request sets (`sets`: name → list of [path, expected status, label])
and a `schedule` of rounds ([set name, request count]), run one after the other. Each
round starts `concurrency` clients that share the round's requests (the set's next
ones, cycling) and keep their connection open between requests while the server
allows it (reconnecting, and counting the connect in the latency, when it doesn't).
Redirects are not followed: the status is compared with the expected one.

Prints one JSON object: per set, the requests, their seconds (summed over its rounds),
`ok` and `errors` (wrong status, broken connection), and latencies in ms (p50, p90,
p99, max; also per label), measured in this process from sending a request (or
connecting) to having its whole response; and `cpu_seconds` used during the set's
rounds: this process's own (`client`) and, for each name → pid of the plan's
`cpu_pids`, that process's and its descendants' (e.g. a server's workers, a database's
backends). On a shared machine CPU per request is a steadier figure than rates.

No Django here: this process should cost the server as little CPU as possible.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from itertools import cycle, islice

USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `waiter` gets (status, close) for each response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._deliver()

    def eof_received(self) -> bool:
        self.closed = True
        self._deliver()
        return False

    def connection_lost(self, exc) -> None:
        self.closed = True
        self._deliver()

    def _deliver(self) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if self.closed:
                waiter.set_exception(ConnectionError("closed before a response"))
            return
        head = bytes(self.buffer[:end]).split(b"\r\n")
        status = int(head[0].split(b" ", 2)[1])
        length, close = None, head[0].startswith(b"HTTP/1.0")
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if length is None:  # the body runs to the end of the connection
            if not self.closed:
                return
            length, close = len(self.buffer) - end - 4, True
        if len(self.buffer) < end + 4 + length:
            if self.closed:
                waiter.set_exception(ConnectionError("closed within a response"))
            return
        del self.buffer[: end + 4 + length]
        waiter.set_result((status, close))


async def _round(host, port, concurrency, requests, latencies, errors) -> float:
    """Send `requests` over `concurrency` clients; latencies get (label, seconds)."""
    loop = asyncio.get_running_loop()
    work = iter(requests)

    async def client() -> None:
        connection = None
        for data, expected, label in work:
            started = time.perf_counter()
            try:
                if connection is None or connection.closed:
                    _, connection = await loop.create_connection(_Connection, host, port)
                connection.waiter = loop.create_future()
                connection.transport.write(data)
                status, close = await connection.waiter
            except (OSError, ConnectionError, ValueError, IndexError):
                errors.append("connection")
                if connection is not None:
                    connection.transport.close()
                connection = None
                continue
            latencies.append((label, time.perf_counter() - started))
            if status != expected:
                errors.append(str(status))
            if close:
                connection.transport.close()
                connection = None
        if connection is not None:
            connection.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started


_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu(roots: list[int]) -> float:
    """CPU seconds (user + system) used so far by `roots` and their descendants (live
    ones, and ended ones their parent has reaped)."""
    total, pending, seen = 0, list(roots), set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/task/{pid}/children") as file:
                pending += [int(child) for child in file.read().split()]
        except (OSError, ValueError):
            continue
        total += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return total / _TICKS


def _ms(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 2)


def _summary(latencies: list[tuple[str, float]], errors: list[str], seconds: float, cpu) -> dict:
    ordered = sorted(seconds_ for _, seconds_ in latencies)
    wrong = len(errors) - errors.count("connection")
    by_label: dict[str, list[float]] = {}
    for label, seconds_ in latencies:
        by_label.setdefault(label, []).append(seconds_)
    return {
        "requests": len(latencies) + errors.count("connection"),
        "ok": len(latencies) - wrong,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "seconds": round(seconds, 4),
        "cpu_seconds": {key: round(value, 3) for key, value in cpu.items()},
        "p50_ms": _ms(ordered, 0.50),
        "p90_ms": _ms(ordered, 0.90),
        "p99_ms": _ms(ordered, 0.99),
        "max_ms": _ms(ordered, 1.0),
        "labels": {
            label: {
                "requests": len(values),
                "p50_ms": _ms(sorted(values), 0.50),
                "p99_ms": _ms(sorted(values), 0.99),
            }
            for label, values in sorted(by_label.items())
        },
    }


async def run(plan: dict) -> dict:
    host, port, concurrency = plan["host"], plan["port"], plan["concurrency"]
    header = f"Host: {host}:{port}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\n\r\n"
    cursors = {
        name: cycle(
            [
                (f"GET {path} HTTP/1.1\r\n{header}".encode(), status, label)
                for path, status, label in items
            ]
        )
        for name, items in plan["sets"].items()
    }
    cpu_pids: dict[str, int] = plan.get("cpu_pids", {})
    results = {}
    for name in cursors:
        cpu = dict.fromkeys([*cpu_pids, "client"], 0.0)
        results[name] = {"latencies": [], "errors": [], "seconds": 0.0, "cpu": cpu}
    for name, count in plan["schedule"]:
        result = results[name]
        requests = list(islice(cursors[name], count))
        before = _cpu_now(cpu_pids)
        result["seconds"] += await _round(
            host, port, concurrency, requests, result["latencies"], result["errors"]
        )
        for key, value in _cpu_now(cpu_pids).items():
            result["cpu"][key] += value - before[key]
    return {name: _summary(**result) for name, result in results.items()}


def _cpu_now(cpu_pids: dict[str, int]) -> dict[str, float]:
    now = {key: _tree_cpu([pid]) for key, pid in cpu_pids.items()}
    now["client"] = time.process_time()
    return now


def main() -> None:
    with open(sys.argv[1]) as file:
        plan = json.load(file)
    print(json.dumps(asyncio.run(run(plan))), flush=True)


if __name__ == "__main__":
    main()
