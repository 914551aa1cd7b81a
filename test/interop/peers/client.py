#!/usr/bin/env python3
"""The interop plan (test/interop/fixtures.ts, PLAN) run by Python's websockets library as a client.

Usage: /usr/bin/python3 client.py URL PLAN_JSON
Prints one JSON object: what each case observed, or {"error": ...} for a case that failed. The
TypeScript test decides what is right. Written for websockets 10.x (Debian's python3-websockets),
whose asyncio client API is also in later releases.
"""
import asyncio
import hashlib
import json
import sys

import websockets

TIMEOUT = 20
MAX_SIZE = 16 * 1024 * 1024


def pattern(n):
    """byte i = (i * 31 + 7) mod 256, as every peer sends it (period 256)."""
    block = bytes((i * 31 + 7) & 0xFF for i in range(256))
    return (block * (n // 256 + 1))[:n]


def close_of(ws):
    # websockets reports 1006 when the closing handshake did not complete.
    return {"code": ws.close_code, "reason": ws.close_reason, "wasClean": ws.close_code != 1006}


async def open_ws(url, subprotocols=None):
    return await asyncio.wait_for(websockets.connect(url, subprotocols=subprotocols, max_size=MAX_SIZE), TIMEOUT)


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


async def finish(ws):
    await asyncio.wait_for(ws.close(1000), TIMEOUT)
    return close_of(ws)


async def case_text(url, plan):
    ws = await open_ws(url)
    got = []
    for text in plan["texts"]:
        await ws.send(text)
        data = await recv(ws)
        got.append(data if isinstance(data, str) else "not text: %r" % data[:20])
    return {"got": got, "close": await finish(ws)}


async def case_binary(url, plan):
    ws = await open_ws(url)
    got = []
    for size in plan["sizes"]:
        await ws.send(pattern(size))
        data = await recv(ws)
        raw = data if isinstance(data, bytes) else data.encode()
        got.append({"binary": isinstance(data, bytes), "length": len(raw), "sha256": hashlib.sha256(raw).hexdigest()})
    return {"got": got, "close": await finish(ws)}


async def case_order(url, plan):
    ws = await open_ws(url)
    for i in range(plan["order"]):
        await ws.send("message %d" % i)
    got = [await recv(ws) for _ in range(plan["order"])]
    return {"got": got, "close": await finish(ws)}


async def case_ping(url, plan):
    """The server pings; websockets answers by itself, and the server reports the pong."""
    ws = await open_ws(url)
    await ws.send("cmd:ping:" + plan["ping"])
    return {"got": await recv(ws), "close": await finish(ws)}


async def case_client_ping(url, plan):
    """We ping; the waiter resolves only on a pong with the same payload."""
    ws = await open_ws(url)
    waiter = await ws.ping(plan["ping"].encode())
    await asyncio.wait_for(waiter, TIMEOUT)
    return {"got": plan["ping"], "close": await finish(ws)}


async def case_fragmented(url, plan):
    """websockets sends an iterable as one fragmented message (one frame per item)."""
    ws = await open_ws(url)
    got = []
    for pieces in (plan["fragments"], [piece.encode() for piece in plan["fragments"]]):
        await ws.send(iter(pieces))
        data = await recv(ws)
        got.append(data if isinstance(data, str) else {"binary": data.decode()})
    return {"got": got, "close": await finish(ws)}


async def case_close_client(url, plan):
    code, reason = plan["closeClient"]
    ws = await open_ws(url)
    await asyncio.wait_for(ws.close(code, reason), TIMEOUT)
    return {"close": close_of(ws)}


async def case_close_server(url, plan):
    code, reason = plan["closeServer"]
    ws = await open_ws(url)
    await ws.send("cmd:close:%d:%s" % (code, reason))
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    return {"close": close_of(ws)}


async def case_subprotocol(url, plan):
    got = []
    for offer in plan["offers"]:
        try:
            ws = await open_ws(url, offer)
        except Exception:
            got.append("<refused>")
            continue
        got.append(ws.subprotocol or "")
        await finish(ws)
    return {"got": got}


CASES = {
    "text": case_text,
    "binary": case_binary,
    "order": case_order,
    "ping": case_ping,
    "clientPing": case_client_ping,
    "fragmented": case_fragmented,
    "closeClient": case_close_client,
    "closeServer": case_close_server,
    "subprotocol": case_subprotocol,
}


async def main(url, plan):
    results = {}
    for name, case in CASES.items():
        try:
            results[name] = await case(url, plan)
        except Exception as error:  # reported, and the test fails on it
            results[name] = {"error": "%s: %s" % (type(error).__name__, error)}
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))), flush=True)
