#!/usr/bin/env python3
"""An echo server on Python's websockets library, for our client to talk to.

Usage: /usr/bin/python3 server.py
Prints its port on the first line, then one JSON line per connection when it has closed:
{"code": ..., "reason": ..., "subprotocol": ...}. Text and binary are echoed; 'cmd:ping:<p>' pings
with <p> and, once the pong came back, sends 'pong:<p>'; 'cmd:close:<code>:<reason>' closes.
Stops when its stdin closes (so it never outlives the test that started it).
"""
import asyncio
import json
import sys

import websockets

TIMEOUT = 20


async def handler(ws, *args):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("cmd:"):
                _, verb, rest = message.split(":", 2)
                if verb == "ping":
                    waiter = await ws.ping(rest.encode())
                    await asyncio.wait_for(waiter, TIMEOUT)
                    await ws.send("pong:" + rest)
                elif verb == "close":
                    code, reason = rest.split(":", 1)
                    await ws.close(int(code), reason)
            else:
                await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    finally:
        await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        print(json.dumps({"code": ws.close_code, "reason": ws.close_reason, "subprotocol": ws.subprotocol or ""}), flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["chat.v1", "chat.v2"], max_size=16 * 1024 * 1024) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
