"""Replaying a recorded feed file (`manage.py feed_replay`): the sandbox's format
(apps/sportsbook/sandbox/feedfile.py, docs/sportsbook-sandbox.md), JSON lines
`{"at": seconds from the start, "body": {"messages": [...]}}`, each body sent `at / speed` seconds
after the replay started, in file order. A line may also be a body as the feed endpoint takes it
(`{"messages": [...]}`), or one message of it (`{"seq": …, "type": …}`, sent in a body of its
own): it carries no time of its own and is sent with the timed line before it (at 0 before any),
so that a capture of bodies alone replays as fast as the endpoint takes them.

Two ways to send, one timing:

- in-process (the default): each body through the feed endpoint's own path, `feed.parse_batch`
  then `services.apply_feed_batch`, for a feed of this database; only the signature, which
  proves a body came from the feed, is left out: the operator running the command is the sender;
- `--url`: each body POSTed, signed with the feed's secret, to a running PAM's endpoint (another
  instance, a staging server), exactly as a feed sends it.

A body that is refused stops the replay (the feed would have to fix it); resends are skipped by
`seq` as for any feed, so a replay stopped half-way can start again from the beginning.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from apps.sportsbook import feed as messages
from apps.sportsbook import services
from apps.sportsbook.signature import signed_headers


class ReplayError(Exception):
    """The file is not a feed file, or a body was refused."""


@dataclass
class Replayed:
    lines: int = 0
    applied: int = 0
    skipped: int = 0


Send = Callable[[bytes], tuple[int, int]]  # a body -> (applied, skipped)


def read_lines(path: Path | str) -> Iterator[tuple[float, bytes]]:
    """(at, body) of each line of the file, in order; ReplayError naming the first line that is
    none of the three forms, or goes back in time."""
    last = 0.0
    with Path(path).open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except ValueError:
                line = None
            if isinstance(line, dict) and "body" in line:
                at, body = line.get("at"), line["body"]
                if isinstance(at, bool) or not isinstance(at, int | float) or at < last or not isinstance(body, dict):
                    raise ReplayError(f"line {number}: `at` must be seconds, never earlier than the line before")
                last = float(at)
            elif isinstance(line, dict) and "messages" in line:
                body = line
            elif isinstance(line, dict) and "type" in line:
                body = {"messages": [line]}
            else:
                raise ReplayError(
                    f'line {number}: not {{"at": seconds, "body": {{...}}}}, a body {{"messages": [...]}} '
                    'or a message {"seq": n, "type": ...}'
                )
            yield last, json.dumps(body, separators=(",", ":")).encode()


def in_process(feed_id: int) -> Send:
    """Send through the endpoint's parsing and service, for the feed `feed_id` of this database."""

    def send(body: bytes) -> tuple[int, int]:
        result = services.apply_feed_batch(feed_id=feed_id, batch=messages.parse_batch(body))
        return result.applied, result.skipped

    return send


def over_http(url: str, feed: str, secret: str, timeout: float = 10.0) -> Send:
    """POST signed to `url` (a PAM's `/api/feed/v1/messages`) as the feed `feed`."""

    def send(body: bytes) -> tuple[int, int]:
        headers = {"Content-Type": "application/json", **signed_headers(feed, secret, body)}
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (the operator's URL)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ReplayError(f"{url} answered {error.code}: {error.read()[:500]!r}") from None
        return answer["applied"], answer["skipped"]

    return send


def replay(
    lines: Iterable[tuple[float, bytes]],
    send: Send,
    *,
    speed: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    each: Callable[[float, Replayed], None] | None = None,
) -> Replayed:
    """Send each line's body `at / speed` seconds after the start (at once when late: a slow
    send delays the next lines, never drops them); `each(at, so_far)` after each one. Errors of
    the service (a refused body) are raised as they are."""
    if speed <= 0:
        raise ReplayError("speed must be above 0")
    done = Replayed()
    started = clock()
    for at, body in lines:
        wait = started + at / speed - clock()
        if wait > 0:
            sleep(wait)
        applied, skipped = send(body)
        done.lines += 1
        done.applied += applied
        done.skipped += skipped
        if each is not None:
            each(at, done)
    return done
