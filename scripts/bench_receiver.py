#!/usr/bin/env python3
"""A fast webhook receiver for the notifications benchmark (asyncio, HTTP/1.1 keep-alive).

Answers every POST with 204 and remembers, per `Idempotency-Key`, when the message first
arrived and which event it was for; duplicates are counted, not kept. `GET /stats` answers
{"received": n, "duplicates": d, "arrivals": {eventId: unix time}}.

    scripts/bench_receiver.py --port 18189
"""
import argparse
import asyncio
import json
import time

arrivals: dict[str, float] = {}
keys: set[str] = set()
duplicates = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global duplicates
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "GET" and path == "/stats":
                payload = json.dumps({"received": len(keys), "duplicates": duplicates, "arrivals": arrivals}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            else:
                now = time.time()
                key = headers.get("idempotency-key", "")
                if key in keys:
                    duplicates += 1
                else:
                    keys.add(key)
                    try:
                        arrivals[json.loads(body)["eventId"]] = now
                    except (ValueError, KeyError):
                        pass
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18189)
    args = parser.parse_args()
    server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
