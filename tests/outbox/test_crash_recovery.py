"""A process that dies between committing a bet and marking its event dispatched loses nothing:
the sweeper delivers the event, exactly once to each receiver.

The bet is made in a separate Python process that is killed (os._exit, as a SIGKILL would: no
cleanup, no atexit) at one of two moments: before the in-process dispatch ran at all, or after
the receivers ran but before the event was marked dispatched. Then `outbox_sweeper --once` runs
as its own process, as `make serve` runs it.
"""

from __future__ import annotations

import os
import textwrap

import pytest
from django.db import connection

from apps.common.models import EventReceipt, OutboxEvent
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import funded_player
from tests.support import PYTHON, clean_env, run

# The receiver under test: it has a database effect (its receipt), so it is made idempotent
# with once_per_event, as compliance and bonus receivers are.
RECEIVER = "crash_test.receiver"

CRASHING_BET = textwrap.dedent(
    """
    import os, sys
    import django
    django.setup()

    from apps.common import events
    from apps.common.idempotency import ExternalRef
    from apps.wallet import services
    from apps.wallet.signals import transaction_posted

    moment = sys.argv[1]

    @events.once_per_event("{receiver}")
    def receiver(sender, event_id, **payload):
        print("receiver ran for event", event_id, flush=True)

    transaction_posted.connect(receiver, weak=False)

    def die(*args, **kwargs):
        os._exit(137)

    if moment == "before-dispatch":
        events.dispatch = die          # the on_commit callback never gets to the receivers
    else:
        events.dispatched.add = die    # the receivers ran; the event is never marked

    services.place_bet(
        player_id=int(sys.argv[2]), currency="EUR", amount=100,
        ref=ExternalRef("provider:crash", sys.argv[3], "fp-" + sys.argv[3]), round_id="r", game_id="g",
    )
    print("the process survived", flush=True)
    """
).format(receiver=RECEIVER)

SWEEPER_RECEIVER = textwrap.dedent(
    """
    import sys
    import django
    django.setup()

    from django.core.management import call_command
    from apps.common import events
    from apps.wallet.signals import transaction_posted

    @events.once_per_event("{receiver}")
    def receiver(sender, event_id, **payload):
        print("receiver ran for event", event_id, flush=True)

    transaction_posted.connect(receiver, weak=False)
    call_command("outbox_sweeper", "--once", "--grace", "0")
    """
).format(receiver=RECEIVER)


def _env() -> dict[str, str]:
    s = connection.settings_dict
    return clean_env(
        DJANGO_SETTINGS_MODULE="pam.settings",
        DATABASE_URL=f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        REDIS_URL=os.environ["REDIS_URL"],
        CHANNEL_LAYER_PREFIX=os.environ["CHANNEL_LAYER_PREFIX"],
        PAM_ENV="dev",
        LOG_LEVEL="WARNING",
    )


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("moment", "runs_in_crashed_process"),
    [("before-dispatch", 0), ("after-receivers", 1)],
    ids=["killed-before-dispatch", "killed-before-marking"],
)
def test_the_sweeper_delivers_an_interrupted_event_exactly_once(moment, runs_in_crashed_process):
    player = funded_player(1_000)
    external_id = f"crash-{moment}"
    env = _env()

    crashed = run([PYTHON, "-c", CRASHING_BET, moment, str(player.pk), external_id], env)

    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    assert "survived" not in crashed.stdout
    assert crashed.stdout.count("receiver ran") == runs_in_crashed_process
    # The money moved and committed; its event is in the outbox, not dispatched.
    tx = Transaction.objects.get(origin="provider:crash", external_id=external_id)
    event = OutboxEvent.objects.get(payload__transaction_id=tx.public_id)
    assert event.dispatched_at is None

    swept = run([PYTHON, "-c", SWEEPER_RECEIVER], env)

    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "dispatched 1 event(s), 0 left" in swept.stdout
    # Exactly once in all: in the sweeper only if the crashed process had not run it.
    assert swept.stdout.count("receiver ran") == 1 - runs_in_crashed_process
    assert EventReceipt.objects.filter(event_id=event.pk, receiver=RECEIVER).count() == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None

    again = run([PYTHON, "-c", SWEEPER_RECEIVER], env)

    assert "dispatched 0 event(s), 0 left" in again.stdout, again.stdout + again.stderr
    assert "receiver ran" not in again.stdout
