"""A provider stand-in for throughput runs: answers Aldeamo's template send after a set latency, at almost no CPU.

The sandbox (``run_sandbox``) is a Django app that stores every send: ~8 ms
of Python and a few queries per message, which at 80 msg/s would take a
core from the portal it stands in front of. This is one asyncio process
with a hand-rolled HTTP/1.1 keep-alive parser: each request waits
``--latency-ms`` (a timer, no thread) and is answered ``{"messageId": …}``
as Aldeamo answers a template send (``POST v1/apikey/template/bsp/send``),
or HTTP 429 for ``--rate-limit-share`` of them. It checks nothing: the
sandbox keeps that role for functional runs.

What it saw is the measure of "the provider's side": ``GET /stats`` answers
the arrival time of every send, how many were accepted and throttled, and
how many recipients were accepted more than once (a duplicate the provider
would deliver). The arrival time is the kernel's: every socket has
``SO_TIMESTAMPNS`` on, and the time is the one the network stack stamped on
the request's last packet when it reached this machine -- not when this
process, sharing the cores with the portal, got round to reading it (a
busy stand-in would otherwise read several requests at once and count them
in one instant). On loopback that is when the portal's ``send`` wrote the
request, to within tens of microseconds. ``read`` (same order) is when the
process read each request, for comparison. ``POST /reset`` forgets it all,
``POST /config`` (JSON ``latency_ms``, ``rate_limit_share``) changes the
behaviour of a running stand-in, ``GET /healthz`` answers 200.

Run: ``python bench/standin.py --port 8123 --latency-ms 200 [--rate-limit-share 0.2] [--seed 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import struct
import time
import uuid
from collections import Counter

# Linux's SO_TIMESTAMPNS (== SCM_TIMESTAMPNS; the socket module does not name it): a receive timestamp
# (struct timespec, two 64-bit integers) in the ancillary data of every recvmsg.
SO_TIMESTAMPNS = 35
ANCILLARY_SPACE = socket.CMSG_SPACE(16)


class StandIn:
    def __init__(self, *, latency_ms: float, rate_limit_share: float, seed: int | None) -> None:
        self.latency = latency_ms / 1000
        self.rate_limit_share = rate_limit_share
        self.random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        self.arrivals: list[float] = []
        self.read: list[float] = []
        self.senders: list[str] = []  # the business number of each arrival (its "from")
        self.accepted: Counter[str] = Counter()
        self.throttled = 0

    def stats(self) -> dict:
        return {"arrivals": self.arrivals, "read": self.read, "senders": self.senders,
                "accepted": sum(self.accepted.values()), "throttled": self.throttled,
                "duplicates": sum(n - 1 for n in self.accepted.values() if n > 1)}

    async def answer(self, method: str, path: str, body: bytes, arrived: float) -> tuple[int, bytes, dict[str, str]]:
        if path.endswith("/bsp/send") and method == "POST":
            read = time.time()
            self.arrivals.append(arrived or read)
            self.read.append(read)
            try:
                self.senders.append(str(json.loads(body).get("from", "")))
            except ValueError:
                self.senders.append("")
            throttle = self.rate_limit_share and self.random.random() < self.rate_limit_share
            await asyncio.sleep(max(0.0, self.latency - (time.time() - (arrived or read))))
            if throttle:
                self.throttled += 1
                return 429, b'{"errors": ["Too many requests (130429)"]}', {"Retry-After": "0.2"}
            try:
                to = str(json.loads(body).get("to", ""))
            except ValueError:
                return 400, b'{"errors": ["not JSON"]}', {}
            self.accepted[to] += 1
            return 200, json.dumps({"messageId": str(uuid.uuid4())}).encode(), {}
        if path == "/healthz":
            return 200, b'{"ok": true}', {}
        if path == "/stats":
            return 200, json.dumps(self.stats()).encode(), {}
        if path == "/reset" and method == "POST":
            self.reset()
            return 200, b"{}", {}
        if path == "/config" and method == "POST":
            config = json.loads(body or b"{}")
            if "latency_ms" in config:
                self.latency = float(config["latency_ms"]) / 1000
            if "rate_limit_share" in config:
                self.rate_limit_share = float(config["rate_limit_share"])
            return 200, b"{}", {}
        return 404, b'{"errors": ["not found"]}', {}

    async def connection(self, sock: socket.socket) -> None:
        """One kept-alive connection: requests one after another, each stamped with its last packet's arrival."""
        loop = asyncio.get_running_loop()
        buffer, stamp = bytearray(), 0.0
        try:
            while True:
                end = buffer.find(b"\r\n\r\n")
                length, close = 0, False
                if end >= 0:
                    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
                    for line in lines[1:]:
                        name, _sep, value = line.partition(":")
                        name = name.strip().lower()
                        if name == "content-length":
                            length = int(value.strip())
                        elif name == "connection" and value.strip().lower() == "close":
                            close = True
                if end < 0 or len(buffer) < end + 4 + length:
                    try:
                        data, ancillary, _flags, _address = sock.recvmsg(65536, ANCILLARY_SPACE)
                    except BlockingIOError:
                        await readable(loop, sock)
                        continue
                    if not data:
                        break
                    buffer += data
                    for level, kind, value in ancillary:
                        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                            seconds, nanoseconds = struct.unpack("qq", value[:16])
                            stamp = seconds + nanoseconds / 1e9
                    continue
                method, target = lines[0].split(" ")[:2]
                body = bytes(buffer[end + 4:end + 4 + length])
                del buffer[:end + 4 + length]
                status, payload, headers = await self.answer(method, target.split("?", 1)[0], body, stamp)
                extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                await loop.sock_sendall(sock, (
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n{extra}\r\n").encode("latin-1") + payload)
                if close:
                    break
        except (ConnectionError, ValueError, OSError):
            pass
        finally:
            sock.close()


async def readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    waiter = loop.create_future()
    loop.add_reader(sock.fileno(), lambda: waiter.done() or waiter.set_result(None))
    try:
        await waiter
    finally:
        loop.remove_reader(sock.fileno())


async def serve(port: int, standin: StandIn) -> None:
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # accepted sockets inherit it
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    tasks = set()
    while True:
        sock, _address = await loop.sock_accept(listener)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = asyncio.create_task(standin.connection(sock))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--rate-limit-share", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(serve(args.port, StandIn(latency_ms=args.latency_ms, rate_limit_share=args.rate_limit_share,
                                         seed=args.seed)))


if __name__ == "__main__":
    main()
