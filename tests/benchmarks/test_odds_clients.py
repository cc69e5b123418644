"""The odds benchmark's client sockets (bench/odds_clients.py): they read a server's frames
themselves, so they are checked against a real WebSocket server (websockets', on 127.0.0.1):
the handshake, frames of every length encoding, a fragmented message, a ping answered, and the
same frames fed a byte at a time. No timing is asserted."""

import asyncio
import json

from websockets.asyncio.server import serve

from bench.odds_clients import Socket

LONG = "x" * 70_000  # a 64-bit length: more than 65,535 bytes
FRAME = json.dumps({"type": "market.updated", "prices": {str(n): "1.01" for n in range(20)}})  # 16-bit length
MESSAGES = ["short", FRAME, LONG]


async def _received(socket: Socket, count: int) -> None:
    async with asyncio.timeout(10):
        while len(socket.raw) < count:
            await asyncio.sleep(0.01)


async def test_a_socket_reads_a_real_server_s_frames_and_answers_its_ping():
    subscribed, ponged = asyncio.Event(), asyncio.Event()

    async def handler(ws):
        assert json.loads(await ws.recv()) == {"type": "subscribe", "event_ids": ["e1", "e2"]}
        subscribed.set()
        for message in MESSAGES:
            await ws.send(message)
        await ws.send(["frag", "mented"])  # one message in two frames
        await asyncio.wait_for(await ws.ping(b"are you there"), 5)  # answered, or the handler fails
        ponged.set()
        await ws.send("after the ping")
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        socket = Socket(f"ws://127.0.0.1:{port}/ws/odds/")
        await socket.open(["e1", "e2"])
        await _received(socket, 5)
        assert subscribed.is_set()
        assert ponged.is_set()
        assert [raw.decode() for raw, _ in socket.raw] == [*MESSAGES, "fragmented", "after the ping"]
        arrivals = [arrival for _, arrival in socket.raw]
        assert arrivals == sorted(arrivals)
        socket.close()


async def test_frames_split_anywhere_are_read_whole():
    socket = Socket("ws://127.0.0.1:1/ws/odds/")
    socket.handshake.set_result(None)  # as after the server's 101
    frames = b"".join(_frame(0x81, m.encode()) for m in MESSAGES) + _frame(0x01, b"frag") + _frame(0x80, b"mented")
    for n, byte in enumerate(frames):
        socket.data_received(bytes([byte]))
        if n == len(frames) // 2:
            assert len(socket.raw) < 3  # the long one is not whole yet
    assert [raw.decode() for raw, _ in socket.raw] == [*MESSAGES, "fragmented"]
    assert socket.buffer == b""


def _frame(first: int, payload: bytes) -> bytes:
    """A server's (unmasked) frame: `first` is FIN and the opcode."""
    if len(payload) < 126:
        return bytes([first, len(payload)]) + payload
    if len(payload) < 1 << 16:
        return bytes([first, 126]) + len(payload).to_bytes(2, "big") + payload
    return bytes([first, 127]) + len(payload).to_bytes(8, "big") + payload
