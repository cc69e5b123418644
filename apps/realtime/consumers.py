"""WebSocket consumers of the real-time protocol (contracts/realtime.md).

One handler per message type; frames come from protocol.py. A refused connection is accepted and
closed at once with 4401 (not authenticated) or 4403 (not allowed), never left open and ignored.

Both consumers outlive a Redis outage (docs/architecture.md, "Real-time through a Redis outage"):
channels' receive loop would otherwise end the consumer on the first Redis error, closing every
socket of the process; here the process's one receive loop (mailroom.py) retries with backoff.
A Redis that restarted empty has forgotten every group: the mailroom notices it as soon as Redis
answers again and has every socket re-join its groups and beat at once
(`rejoin_after_backplane_loss`), so live frames resume without waiting for the next beat. The
groups are also re-joined on every beat, which renews them, and a socket that connects while
Redis is down is still accepted, served from the ledger, and joins its group once Redis is back.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import weakref
from collections.abc import Awaitable, Callable

import structlog
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from apps.accounts import selectors as accounts
from apps.accounts.errors import NotAPlayer
from apps.accounts.models import Player
from apps.common import metrics
from apps.common.tokens import hash_token
from apps.realtime import extensions, feed, protocol, selectors, services
from apps.realtime.gathered import beat_calls
from apps.realtime.groups import BACKOFFICE_FEED, backoffice_staff_group, player_group
from apps.realtime.mailroom import mailroom_of
from apps.realtime.presence import presence_of
from apps.wallet import selectors as wallet

logger = structlog.get_logger(__name__)

NOT_AUTHENTICATED = 4401
NOT_ALLOWED = 4403
# The close of a socket whose sign-in or access could not be read again (the database did not
# answer): the server's error, so the client reconnects, and its connect reads them.
ACCESS_UNREAD = 1011

# A channel-layer call that takes longer than this is given up (the socket stays open, the next
# beat tries again): a hung Redis must not stall a handshake or a heartbeat.
LAYER_CALL_TIMEOUT = 3.0
# Group leaves and presence removals in flight at once per process. redis-py's pool refuses a
# command past its max_connections instead of waiting (measured: 300 sockets joining at once, 200
# refused with MaxConnectionsError); this keeps the consumers well below it, beside pushes and
# receives. Joins and presence renewals need no slot: a process has one of each in flight
# (gathered.py).
LAYER_CALLS_AT_ONCE = 50
_layer_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _layer_slot() -> asyncio.Semaphore:
    """The semaphore of the running loop (one per loop: a semaphore is bound to its loop)."""
    loop = asyncio.get_running_loop()
    slot = _layer_slots.get(loop)
    if slot is None:
        slot = _layer_slots[loop] = asyncio.Semaphore(LAYER_CALLS_AT_ONCE)
    return slot


@database_sync_to_async
def _player_of(user) -> Player | None:
    try:
        return accounts.get_player_for_user(user)
    except NotAPlayer:
        return None


@database_sync_to_async
def _signed_in(credential: str, session_key: str | None, user_id: int, session_hash: str = "") -> bool:
    """Whether the sign-in a player socket was opened with still signs the player in: its session
    (a cookie's: it exists and carries the hash of the player's current password), the bearer
    token that asked for its ticket, or the session that asked for it (whose key is not kept:
    the password hash it carried still matches, the player active; its sign-out closes the socket
    by its credential, `player_signed_out`). A ticket with no sign-in is not read again."""
    if session_key is not None or session_hash:
        user = accounts.get_user(user_id)
        if user is None:
            return False
        if session_key is not None:
            return accounts.session_signs_in(session_key, user)
        return accounts.session_hash_signs_in(session_hash, user)
    if credential.startswith("token:"):
        return accounts.is_live_token_hash(credential.removeprefix("token:"))
    return True


# What other apps add to the socket (extensions.py): their refusal and their timers' first due
# times in one trip to the database thread, and a timer's callable when it fires.
_at_connect = database_sync_to_async(extensions.at_connect)


@database_sync_to_async
def _when_due(extension: extensions.PlayerSocketExtension, player_id: int, due_at):
    return extension.when_due(player_id, due_at)


@database_sync_to_async
def _state(player_id: int) -> wallet.WalletState:
    return wallet.get_wallet_state(player_id)


class _BackplaneMember(AsyncJsonWebsocketConsumer):
    """A consumer in channel-layer groups that survives the backplane going away and coming back.

    `groups_to_join` are joined at connect (if Redis answers) and again after every beat; `beat()`
    runs every REALTIME_HEARTBEAT_SECONDS while the socket is open.

    An idle socket holds no task of its own beyond the ASGI server's: channel-layer messages come
    from the process's mailroom (mailroom.py) into `_deliver`, and the next beat waits as a timer
    (a task per socket, its frame and its sleep, measured about 1 KiB of an idle socket).
    Messages from the client and from the layer are still handled one at a time, in order, as
    channels' own dispatch loop does.
    """

    groups_to_join: list[str]
    socket_kind: str  # the open-sockets gauge's label (apps.common.metrics)
    counted = False  # in the open-sockets gauge: accepted to be served, not to be refused
    closing = False
    ended = False
    beating = False
    _beat_timer: asyncio.TimerHandle | None = None
    _beat_task: asyncio.Task | None = None
    _inbox: collections.deque | None = None
    _inbox_task: asyncio.Task | None = None
    _mailroom = None
    _layer_task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self._dispatching = asyncio.Lock()
        try:
            while True:
                message = await receive()
                async with self._dispatching:
                    await self.dispatch(message)
        except StopConsumer:
            pass
        finally:  # however the consumer ends, its beat and its inbox end with it
            self.ended = True
            if self.counted:
                metrics.socket_closed(self.socket_kind)
            if self._mailroom is not None:
                self._mailroom.discard(self.channel_name)
            self._stop_beating()
            for task in (self._inbox_task, self._layer_task):
                if task is not None:
                    task.cancel()

    def _listen(self) -> None:
        """Receive this channel's layer messages from now on; called by `connect` before the first
        group join, so a refused socket never starts the process's receive loop (a test's loop
        that closed while that loop was still connecting to Redis hung on the cancel)."""
        self._mailroom = mailroom_of(self.channel_layer)
        if self._mailroom is not None:
            self._mailroom.add(
                self.channel_name, self._deliver, self.rejoin_after_backplane_loss, self.beat_after_backplane_loss
            )
        else:  # the in-memory layer (embedded mode) is read per channel
            self._layer_task = asyncio.create_task(self._receive_each_from_layer())

    def _deliver(self, message: dict) -> None:
        """A layer message for this consumer, handled after those before it."""
        if self._inbox is None:
            self._inbox = collections.deque()
        self._inbox.append(message)
        if self._inbox_task is None:
            self._inbox_task = asyncio.create_task(self._handle_inbox())

    async def _handle_inbox(self) -> None:
        try:
            while self._inbox:
                message = self._inbox.popleft()
                try:
                    async with self._dispatching:
                        await self.dispatch(message)
                except Exception as exc:  # one frame that fails to go out does not stop the next
                    logger.warning("realtime.dispatch_failed", type=message.get("type"), error=repr(exc))
        finally:
            self._inbox_task = None
            self._inbox = None  # an empty deque is most of a KiB; most sockets are idle

    async def _receive_each_from_layer(self) -> None:
        while True:
            message = await self.channel_layer.receive(self.channel_name)
            async with self._dispatching:
                await self.dispatch(message)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """A client frame that is not JSON text (binary, empty, not JSON) is answered with an
        `invalid_request` notice, as a malformed message is, and the socket stays open: channels'
        JSON consumer would raise and drop the connection without a close."""
        try:
            if text_data is None:
                raise ValueError("a binary frame")
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json(protocol.notice("invalid_request", "A message is a JSON object sent as text."))
            return
        await self.receive_json(content, **kwargs)

    async def close(self, code=None, reason=None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        """Nothing more after a close: a frame or beat racing a server-side close is dropped
        (the ASGI server would refuse a send after the close and end the consumer with an error)."""
        if not self.closing:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def send_json(self, content, close=False) -> None:
        """Through `send` above: channels' own `send_json` calls its parent's `send`, past it, so a
        frame forwarded after a server-side close would still go out."""
        await self.send(text_data=await self.encode_json(content), close=close)

    async def join_groups(self) -> bool:
        """(Re-)join every group; False, logged, if the backplane did not answer. Re-joining also
        renews the group's expiry in Redis. Gathered with the process's other joins of the moment
        (gathered.py): a crowd of sockets beating or connecting together is one round trip."""
        join = beat_calls(self.channel_layer).join
        try:
            async with asyncio.timeout(LAYER_CALL_TIMEOUT):
                for group in self.groups_to_join:
                    await join((group, self.channel_name))
        except Exception as exc:
            logger.info("realtime.group_join_failed", groups=self.groups_to_join, error=repr(exc))
            return False
        return True

    async def leave_groups(self) -> None:
        with contextlib.suppress(Exception):  # a group left in a dead Redis expires on its own
            async with asyncio.timeout(LAYER_CALL_TIMEOUT), _layer_slot():
                for group in self.groups_to_join:
                    await self.channel_layer.group_discard(group, self.channel_name)

    async def rejoin_after_backplane_loss(self) -> bool:
        """The backplane forgot the groups (a Redis restarted empty): re-join them, so that a
        frame pushed from now on arrives live. Called by the mailroom; never raises, never closes
        the socket: False for a failed join (logged), which the mailroom asks again at its next
        probe. A socket on its way out has nothing to join."""
        if self.ended or self.closing:
            return True
        return await self.join_groups()

    async def beat_after_backplane_loss(self) -> None:
        """Beat once the groups are re-joined: the beat shows the client the versions it missed
        while they were forgotten (read after the join, so whatever commits after the read is
        pushed to the group). Called by the mailroom; never raises. A socket still connecting
        does not beat: its `hello` is read after its own join."""
        if not self.beating or self.ended or self.closing:
            return
        try:
            await self.beat()
        except Exception as exc:
            logger.warning("realtime.beat_failed", error=repr(exc))

    def start_beating(self) -> None:
        self.beating = True
        self._next_beat = asyncio.get_running_loop().time()
        self._schedule_beat()

    def _schedule_beat(self) -> None:
        """The next beat on a fixed schedule (a late beat is not made up for twice)."""
        loop = asyncio.get_running_loop()
        self._next_beat = max(self._next_beat + settings.REALTIME_HEARTBEAT_SECONDS, loop.time())
        self._beat_timer = loop.call_at(self._next_beat, self._start_beat)

    def _start_beat(self) -> None:
        self._beat_timer = None
        self._beat_task = asyncio.create_task(self._beat_then_rejoin())

    async def _beat_then_rejoin(self) -> None:
        """Beat, then re-join the groups for what comes next.

        The beat goes first, and the next one is scheduled from this one's due time, so that a
        slow or hung Redis (a join may take LAYER_CALL_TIMEOUT) never stretches the time between
        two beats past the period. Nothing is lost by joining after the version is read: a frame
        committed before the join is at or below the version of the next beat, which shows the gap.
        """
        try:
            try:
                await self.beat()
            except Exception as exc:  # a database hiccup skips one beat, not the socket
                logger.warning("realtime.beat_failed", error=repr(exc))
            await self.join_groups()
        finally:
            self._beat_task = None
        if not self.ended:
            self._schedule_beat()

    def _stop_beating(self) -> None:
        if self._beat_timer is not None:
            self._beat_timer.cancel()
            self._beat_timer = None
        if self._beat_task is not None:
            self._beat_task.cancel()

    async def beat(self) -> None:
        """What the consumer sends on each beat, before it re-joins its groups."""

    async def disconnect(self, code: int) -> None:
        self._stop_beating()
        if getattr(self, "groups_to_join", None):
            await self.leave_groups()

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def accept_to_serve(self) -> None:
        """Accept a socket that is to be served (a refused one is accepted only to be closed), and
        count it open until the consumer ends."""
        await self.accept()
        self.counted = True
        metrics.socket_opened(self.socket_kind)


# A wallet frame that comes ahead of the one before it (another process's push went out sooner,
# or the one before was lost on the backplane) waits this long for it; then the frames missing
# are read from the ledger. Either way the player gets them in version order.
GAP_WAIT_SECONDS = 0.05


@database_sync_to_async
def _frames_since(player_id: int, version: int) -> list[dict]:
    return selectors.list_frames_since(player_id, version)


class PlayerConsumer(_BackplaneMember):
    """`/ws/player/`: the player's own wallet frames and notices, by session cookie or one-time
    ticket. Wallet frames go out in version order, each once: a live frame at or below the version
    the socket has sent is dropped, and one ahead of a missing one is held until the missing one
    comes (or is read from the ledger, after GAP_WAIT_SECONDS)."""

    socket_kind = metrics.PLAYER_SOCKET
    player_id: int | None = None
    credential = ""  # the sign-in the socket was opened with (services.credential_of); "" if unknown
    session_key: str | None = None  # a cookie socket's session, read again when the sign-in may have ended
    session_hash = ""  # the password hash of the session that asked for its ticket (services.session_hash_of)
    user_id: int | None = None
    version = 0  # the wallet version this socket has sent the player: its hello's, then each frame's
    # Live frames held for one missing before them, by version, and the timer that reads the
    # missing ones from the ledger: None while nothing is held (almost always).
    _ahead: dict[int, dict] | None = None
    _gap_timer: asyncio.TimerHandle | None = None
    # The extensions' timers of this socket, by extension name: the asyncio timer while it
    # waits, the task while its callable runs. None while there is none (most sockets).
    _timers: dict[str, asyncio.TimerHandle | asyncio.Task] | None = None

    async def connect(self) -> None:
        player = self.scope.get("ticket_player")
        credential = self.scope.get("ticket_credential", "")
        session_hash = self.scope.get("ticket_session_hash", "")
        session = None
        if player is None and not self.scope.get("ticket_given"):
            user = self.scope.get("user")
            if user is not None and user.is_authenticated:
                player = await _player_of(user)
                if player is None:
                    return await self._refuse(NOT_ALLOWED)
                session = self.scope.get("session")
                if session is not None and session.session_key:
                    credential = services.session_credential(session.session_key)
                else:
                    session = None
        if player is None:
            return await self._refuse(NOT_AUTHENTICATED)
        added = await _at_connect(player)
        if added.refusal is not None:  # they may still log in (to withdraw), but get no live play socket
            await self.accept()
            await self.send_json(protocol.notice(added.refusal.kind, added.refusal.message, added.refusal.data))
            return await self.close(code=NOT_ALLOWED)
        self.player_id = player.pk
        self.groups_to_join = [player_group(player.pk)]
        self._listen()
        # Joined before `hello` is read, so no frame committed after that read can be missed.
        # If Redis is down the socket is served anyway and joins on a later beat. Counted online
        # by the time the client has its `hello`; both calls at once, so a Redis that does not
        # answer holds the handshake for one timeout, not two.
        await asyncio.gather(self.join_groups(), self._present())
        await self.accept_to_serve()
        # A sign-out that committed after the reads above was sent to the player's group before
        # this socket was in it: the sign-in is read again now that it is.
        self.credential = credential
        self.session_key = session.session_key if session is not None else None
        self.session_hash = session_hash
        self.user_id = player.user_id
        if not await _signed_in(credential, self.session_key, self.user_id, self.session_hash):
            return await self.close(code=NOT_AUTHENTICATED)
        hello = protocol.hello(await _state(player.pk))
        await self.send_json(hello)
        self.version = hello["version"]
        self.start_beating()
        for extension, due_at in added.timers:
            self._watch(extension, due_at)

    def _watch(self, extension: extensions.PlayerSocketExtension, due_at) -> None:
        """An extension's timer (the reality check comes at its time even between bets): a timer
        handle until `due_at`, not a task. A due time moved meanwhile is the callable's to notice
        when it fires; it returns the next one."""
        if due_at is None or self.ended:
            return
        delay = max((due_at - timezone.now()).total_seconds(), 0.0)
        if self._timers is None:
            self._timers = {}
        self._timers[extension.name] = asyncio.get_running_loop().call_later(delay, self._fire, extension, due_at)

    def _fire(self, extension: extensions.PlayerSocketExtension, due_at) -> None:
        if self.ended or self._timers is None:  # a consumer that ended (its timer outlived it)
            return
        self._timers[extension.name] = asyncio.create_task(self._run_timer(extension, due_at))

    async def _run_timer(self, extension: extensions.PlayerSocketExtension, due_at) -> None:
        try:
            next_due = await _when_due(extension, self.player_id, due_at)
        except Exception as exc:  # e.g. the next bet past the due time still sends the reality check
            logger.warning("realtime.extension_timer_failed", extension=extension.name, player_id=self.player_id,
                           error=repr(exc))  # fmt: skip
            return
        finally:
            if self._timers is not None:
                self._timers.pop(extension.name, None)
        self._watch(extension, next_due)

    async def disconnect(self, code: int) -> None:
        for timer in (self._timers or {}).values():
            timer.cancel()
        self._timers = None
        self._forget_held()
        if self.player_id is not None:
            await self._presence_call(
                functools.partial(presence_of(self.channel_layer).gone, self.channel_name), gathered=False
            )
        await super().disconnect(code)

    async def beat(self) -> None:
        """The current version, read from the ledger: a client that lost a frame on the backplane
        (or a whole outage of it) sees the gap within one period and sends `resume`. Then the
        socket is still open for the players-online figure (presence.py)."""
        await self.send_json(protocol.heartbeat(await beat_calls(self.channel_layer).version(self.player_id)))
        await self._present()

    async def _present(self) -> None:
        """Counted online (presence.py) from now until a few beats ahead; the sets' expired
        members pruned."""
        await self._presence_call(functools.partial(beat_calls(self.channel_layer).seen, self.channel_name))

    async def _presence_call(self, call: Callable[[], Awaitable[object]], gathered: bool = True) -> None:
        """One presence call, bounded as the group calls are; a failure is logged, never raised:
        the figure goes stale, the socket goes on. One not `gathered` (a disconnect's) also takes
        a slot of the process's layer calls."""
        try:
            async with asyncio.timeout(LAYER_CALL_TIMEOUT), contextlib.nullcontext() if gathered else _layer_slot():
                await call()
        except Exception as exc:
            logger.info("realtime.presence_failed", error=repr(exc))

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "resume":
            await self.resume(content)

    async def resume(self, content: dict) -> None:
        """Replay from the ledger every frame after `since_version` (or `resync`), all of them:
        the client asked (a live frame it already has is its own to ignore)."""
        since = content.get("since_version")
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            await self.send_json(protocol.notice("invalid_request", "resume needs a non-negative since_version"))
            return
        for frame in await _frames_since(self.player_id, since):
            await self.send_json(frame)
            self.version = max(self.version, frame["version"])
        await self._send_held()

    async def wallet_updated(self, message: dict) -> None:
        """A live wallet frame: sent if it is the next version (then any held after it), held if
        one before it is missing, dropped if sent already (by a resume or a gap's read)."""
        frame = message["frame"]
        if frame["version"] <= self.version:
            return
        if frame["version"] > self.version + 1:
            self._hold(frame)
            return
        await self._send_wallet(frame)
        await self._send_held()

    async def _send_wallet(self, frame: dict) -> None:
        await self.send_json(frame)
        self.version = frame["version"]

    def _hold(self, frame: dict) -> None:
        if self._ahead is None:
            self._ahead = {}
        self._ahead[frame["version"]] = frame
        if self._gap_timer is None:
            self._gap_timer = asyncio.get_running_loop().call_later(GAP_WAIT_SECONDS, self._gap_overdue)

    async def _send_held(self, *, gaps_too: bool = False) -> None:
        """The held frames that now follow in order (with `gaps_too`, every one, in order: the
        client resumes across a gap that the ledger could not fill)."""
        while self._ahead:
            following = self.version + 1 if not gaps_too else min(self._ahead)
            frame = self._ahead.pop(following, None)
            if frame is None:
                return
            if frame["version"] > self.version:
                await self._send_wallet(frame)
        self._forget_held()

    def _forget_held(self) -> None:
        self._ahead = None
        if self._gap_timer is not None:
            self._gap_timer.cancel()
            self._gap_timer = None

    def _gap_overdue(self) -> None:
        self._gap_timer = None
        if self._ahead and not (self.ended or self.closing):
            self._deliver({"type": "wallet.gap"})  # in turn with the layer's messages

    async def wallet_gap(self, message: dict) -> None:
        """The frames before a held one did not come in time: read them from the ledger."""
        if self._ahead:
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Send what the ledger has after the version sent (then what is held), in order. A
        failed read sends what is held as it is: the client resumes across the gap."""
        try:
            frames = await _frames_since(self.player_id, self.version)
        except Exception as exc:
            logger.warning("realtime.catch_up_failed", player_id=self.player_id, error=repr(exc))
            frames = []
        for frame in frames:
            if frame["version"] > self.version:
                await self._send_wallet(frame)
        await self._send_held(gaps_too=True)

    async def player_notice(self, message: dict) -> None:
        """Forward a `notice` frame (services.notify_player)."""
        await self.send_json(message["frame"])

    async def player_signed_out(self, message: dict) -> None:
        """A sign-in of the player ended (services.close_signed_out_player_sockets: a session signed
        out, tokens revoked): closed 4401 if this socket was opened with it, directly or through a
        ticket it asked for, as a new connection with it is refused."""
        if self.credential and self.credential in message.get("credentials", ()):
            await self.close(code=NOT_AUTHENTICATED)

    async def player_recheck_sign_in(self, message: dict) -> None:
        """The player's user was saved in a way that may end their sessions, a new password or a
        deactivation (services.recheck_player_sign_in): closed 4401 unless the socket's sign-in
        still signs them in, as a new connection with it would be refused. After a password change
        every cookie socket opened before it closes, the changing browser's too: its session goes
        on under a new key, which the browser's next connection uses (pam-realtime.js tries a live
        socket's 4401 once more). A check that cannot be read closes with the server's error, so
        the client reconnects, which signs in afresh."""
        if self.closing or self.user_id is None:
            return
        try:
            signed_in = await _signed_in(self.credential, self.session_key, self.user_id, self.session_hash)
        except Exception as exc:
            logger.warning("realtime.sign_in_unread", player_id=self.player_id, error=repr(exc))
            return await self.close(code=ACCESS_UNREAD)
        if not signed_in:
            await self.close(code=NOT_AUTHENTICATED)

    async def player_disconnect(self, message: dict) -> None:
        """Send the `notice` saying why, then close with the given code (services.disconnect_player,
        e.g. on self-exclusion); every socket of the player, on every instance, gets it. First the
        wallet frames committed by then, from the ledger: the movement that closed the account (a
        chargeback, the bet that tripped a rule's lock) would otherwise reach the socket after its
        close, and a closed player's socket cannot resume."""
        await self._catch_up()
        await self.send_json(message["frame"])
        await self.close(code=message["code"])


def _allowed(user) -> frozenset[str]:
    if not user.is_staff:
        return frozenset()
    return feed.allowed_events(user.has_perm)  # one read of the staff member's permissions, cached on the user


_allowed_events = database_sync_to_async(_allowed)


@database_sync_to_async
def _current_access(user_id: int, session_key: str) -> frozenset[str] | None:
    """What the staff member may see now, read afresh (`accounts.get_user`: a new user object, so
    no permission cached at connect answers); None if the socket's session no longer signs them
    in: the user is deleted or deactivated, the session signed out, or their password changed
    since it signed in (a new connection with it is refused 4401)."""
    user = accounts.get_user(user_id)
    if user is None or not accounts.session_signs_in(session_key, user):
        return None
    return _allowed(user)


class BackofficeFeedConsumer(_BackplaneMember):
    """`/ws/backoffice/`: every player's events that the staff member's role may see (feed.py's
    table), filtered per socket by its subscription: the query string's at connect, then each
    `subscribe` message's. Filtering happens here, in the process that holds the socket, so a
    frame a socket must not see never leaves the server.

    The staff member's access is read at connect and held, not read per frame; the socket follows
    it as it changes through its staff member's own group (`backoffice_staff_group`), where
    services.py sends, after commit, a change of their access (`backoffice.access_changed`: read
    it again, then narrow the subscription to it or close) and the end of a session
    (`backoffice.session_ended`: the sockets of that session close 4401). A message is handled
    after the frames before it and before those after it, so no frame is forwarded under access
    that a handled message took away."""

    allowed: frozenset[str] = frozenset()
    subscription: feed.Subscription | None = None
    socket_kind = metrics.BACKOFFICE_SOCKET
    staff_id: int | None = None
    session_key: str | None = None
    session_hash: str | None = None  # the session's key as services.close_staff_session_sockets names it

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self._refuse(NOT_AUTHENTICATED)
        self.allowed = await _allowed_events(user)
        if not self.allowed:
            return await self._refuse(NOT_ALLOWED)
        # As the back office's pages would: an idle-expired session, or one without a one-time
        # code where two-factor sign-in is required, must sign in again (docs/backoffice.md).
        session = self.scope.get("session")
        if session is None or await database_sync_to_async(accounts.staff_socket_refusal)(user, session):
            return await self._refuse(NOT_AUTHENTICATED)
        try:  # before joining the feed: a page about one player never gets another's frame
            self.subscription = feed.parse_query(self.scope.get("query_string", b""), self.allowed)
        except feed.InvalidSubscription as exc:
            await self.accept()
            await self.send_json(protocol.notice("invalid_request", str(exc)))
            return await self.close(code=NOT_ALLOWED)
        self.staff_id = user.pk
        self.session_key = session.session_key
        self.session_hash = hash_token(session.session_key)
        self.groups_to_join = [backoffice_staff_group(user.pk), BACKOFFICE_FEED]
        self._listen()
        await self.join_groups()
        await self.accept_to_serve()
        # A sign-out or a change of access that committed after the reads above was sent to the
        # staff member's group before this socket was in it: both are read again now that it is.
        await self._follow_access()
        if not self.closing:
            self.start_beating()  # re-joins the groups after a Redis restart; sends nothing itself

    async def receive_json(self, content, **kwargs) -> None:
        if not (isinstance(content, dict) and content.get("type") == "subscribe"):
            return
        try:
            self.subscription = feed.parse(content, self.allowed)
        except feed.InvalidSubscription as exc:  # the socket keeps the filters it had
            await self.send_json(protocol.notice("invalid_request", str(exc)))
            return
        await self.send_json(self.subscription.as_frame())

    async def _forward(self, message: dict) -> None:
        frame = message["frame"]
        if self.subscription is not None and self.subscription.wants(frame):
            await self.send_json(frame)

    # Every kind of layer message goes through the same filter (the frame's `event` names its type).
    wallet_updated = _forward
    compliance_alert = _forward
    feed_event = _forward

    async def backoffice_access_changed(self, message: dict) -> None:
        """The staff member's user, groups or permissions changed (services.recheck_staff_access)."""
        await self._follow_access()

    async def backoffice_session_ended(self, message: dict) -> None:
        """One of the staff member's sessions signed out (services.close_staff_session_sockets):
        closed 4401 if it is this socket's, as its pages now ask for a sign-in."""
        if message.get("session") == self.session_hash:
            await self.close(code=NOT_AUTHENTICATED)

    async def _follow_access(self) -> None:
        """Read the staff member's access again and hold the socket to it, closing it with the code
        a new connection would get: 4401 if the session no longer signs them in (`_current_access`),
        4403 if they may see nothing. Otherwise the subscription keeps only the types still allowed, and the client
        gets a `subscribed` frame if that took any away. What was added applies from the next
        `subscribe` (or connect): a subscription is what the page asked for, not widened behind
        its back."""
        if self.closing or self.staff_id is None:
            return
        try:
            allowed = await _current_access(self.staff_id, self.session_key)
        except Exception as exc:  # access that cannot be read is not kept: the client reconnects, which reads it
            logger.warning("realtime.backoffice_access_unread", staff_id=self.staff_id, error=repr(exc))
            return await self.close(code=ACCESS_UNREAD)
        if allowed is None:
            return await self.close(code=NOT_AUTHENTICATED)
        if not allowed:
            return await self.close(code=NOT_ALLOWED)
        self.allowed = allowed
        if self.subscription is not None and not self.subscription.types <= allowed:
            self.subscription = self.subscription.within(allowed)
            await self.send_json(self.subscription.as_frame())
