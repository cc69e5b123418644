"""The wallet's extension point (extensions.py): participants run inside the money transaction in
their stated order, once each; a refusal rolls the money back, with what the participant wrote,
and answers with the player's balance; the wallet imports no compliance code."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from apps.accounts.choices import KycStatus
from apps.accounts.models import Player
from apps.common.events import send_after_commit
from apps.common.models import OutboxEvent
from apps.compliance.errors import LimitReached
from apps.wallet import extensions, services
from apps.wallet.choices import BONUS_POOL, TransactionKind
from apps.wallet.models import Account, Transaction
from apps.wallet.signals import transaction_posted
from apps.wallet.tests.factories import a_ref, bet, funded_player, wallet

WALLET = Path(services.__file__).resolve().parent
MOMENTS = (extensions.STAKE, extensions.REFUND, extensions.DEPOSIT, extensions.WITHDRAWAL, extensions.CHARGEBACK)


@pytest.fixture
def moments(monkeypatch):
    """The process's moments with compliance's checks alone (the positions after it free for the
    test's participants), restored as they were after the test."""
    for moment in MOMENTS:
        kept = tuple((order, participant) for order, participant in moment._registered if order <= 100)
        monkeypatch.setattr(moment, "_registered", kept)
        monkeypatch.setattr(moment, "participants", tuple(participant for _, participant in kept))
    return MOMENTS


def wallet_account_id(player) -> int:
    return Account.objects.get(player=player, kind="cash").pk


def recorder(calls: list, name: str):
    def participant(**arguments):
        calls.append((name, arguments))

    participant.__name__ = name
    return participant


# --- the registry --------------------------------------------------------------------------------


def test_participants_are_called_in_their_order_not_in_the_order_they_registered():
    moment = extensions.Moment("test")
    calls = []
    sportsbook, compliance, bonuses = (
        recorder(calls, "sportsbook"),
        recorder(calls, "compliance"),
        recorder(calls, "bonuses"),
    )
    # when
    moment.register(sportsbook, order=300)
    moment.register(compliance, order=100)
    moment.register(bonuses, order=200)
    for participant in moment.participants:
        participant(amount=1)
    # then
    assert moment.participants == (compliance, bonuses, sportsbook)
    assert moment.registered() == ((100, compliance), (200, bonuses), (300, sportsbook))
    assert [name for name, _ in calls] == ["compliance", "bonuses", "sportsbook"]


def test_registering_the_same_participant_again_calls_it_once():
    moment = extensions.Moment("test")
    calls = []
    participant = recorder(calls, "compliance")

    moment.register(participant, order=100)
    moment.register(participant, order=100)  # a ready() run twice

    assert moment.participants == (participant,)


def test_a_position_holds_one_participant_and_a_participant_one_position():
    moment = extensions.Moment("test")
    first, second = recorder([], "first"), recorder([], "second")
    moment.register(first, order=100)

    with pytest.raises(ImproperlyConfigured, match="Position 100 at test is taken"):
        moment.register(second, order=100)
    with pytest.raises(ImproperlyConfigured, match="already at test in position 100"):
        moment.register(first, order=200)
    assert moment.registered() == ((100, first),)


def test_the_participants_quiet_by_a_condition_are_found_in_their_order():
    moment = extensions.Moment("test")
    compliance, bonuses, sportsbook, other = (recorder([], name) for name in ("c", "b", "s", "o"))
    moment.register(sportsbook, order=300, quiet=extensions.Quiet.NO_DETAIL)
    moment.register(compliance, order=100, quiet=extensions.Quiet.FREE_PLAYER)
    moment.register(other, order=400, quiet=extensions.Quiet.NO_DETAIL)
    moment.register(bonuses, order=200, quiet=extensions.Quiet.NO_BONUS)

    assert moment.quiet_by(extensions.Quiet.NO_DETAIL) == (sportsbook, other)
    assert moment.quiet_by(extensions.Quiet.FREE_PLAYER) == (compliance,)


# --- the wallet calls them -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bet_calls_the_stake_participants_in_order_with_the_locked_player_and_the_amount(moments):
    player = funded_player(1_000)
    calls = []
    extensions.STAKE.register(recorder(calls, "sportsbook"), order=300)
    extensions.STAKE.register(recorder(calls, "bonuses"), order=200)
    # when
    bet(player, 700)
    # then
    assert [(name, sorted(arguments)) for name, arguments in calls] == [
        ("bonuses", ["amount", "detail", "game_id", "origin", "player", "wallet"]),
        ("sportsbook", ["amount", "detail", "game_id", "origin", "player", "wallet"]),
    ]
    assert calls[0][1]["detail"] is None  # a provider's bet says nothing more of its stake
    assert [(arguments["player"].pk, arguments["amount"]) for _, arguments in calls] == [(player.pk, 700)] * 2
    assert calls[0][1]["player"] is calls[1][1]["player"]  # the row the lock read, not one per participant
    assert calls[0][1]["wallet"].player is calls[0][1]["player"]
    assert calls[0][1]["wallet"].cash.pk == wallet_account_id(player)  # the locked wallet itself
    assert wallet(player) == (300, 0, 2)


@pytest.mark.django_db
def test_a_deposit_a_withdrawal_and_a_chargeback_call_their_own_moment_and_other_movements_none(moments):
    player = funded_player(1_000)
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)  # compliance lets it withdraw
    calls = []
    extensions.DEPOSIT.register(recorder(calls, "deposit"), order=200)
    extensions.WITHDRAWAL.register(recorder(calls, "withdrawal"), order=200)
    extensions.STAKE.register(recorder(calls, "stake"), order=200)
    extensions.CHARGEBACK.register(recorder(calls, "chargeback"), order=200)
    # when
    services.credit(player_id=player.pk, currency="EUR", amount=500, kind=TransactionKind.DEPOSIT, ref=a_ref(),
                    counter="clearing:test")  # fmt: skip
    services.reserve_withdrawal(player_id=player.pk, currency="EUR", amount=300, ref=a_ref())
    services.return_withdrawal(player_id=player.pk, currency="EUR", amount=300, ref=a_ref())
    services.credit(player_id=player.pk, currency="EUR", amount=50, kind=TransactionKind.BONUS, ref=a_ref(),
                    counter=BONUS_POOL, to_bonus=True)  # fmt: skip
    services.reverse_deposit(player_id=player.pk, currency="EUR", amount=100, ref=a_ref(), counter="clearing:test",
                             kind=TransactionKind.REFUND)  # fmt: skip
    services.reverse_deposit(player_id=player.pk, currency="EUR", amount=100, ref=a_ref(), counter="clearing:test",
                             kind=TransactionKind.CHARGEBACK)  # fmt: skip
    # then
    assert [(name, arguments["amount"]) for name, arguments in calls] == [
        ("deposit", 500), ("withdrawal", 300), ("chargeback", 100),
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_refusal_rolls_back_the_money_and_what_the_participant_wrote_and_carries_the_balance(
    moments, django_capture_on_commit_callbacks
):
    # given
    player = funded_player(1_000)
    later = []

    def refuse(*, player, amount, **_):
        # Written in the money transaction (an outbox row), so it must go with the refusal.
        send_after_commit(transaction_posted, player_id=str(player.pk), note="written before refusing")
        raise LimitReached("Over the test's limit.", extra={"limit_source": "test"})

    extensions.STAKE.register(refuse, order=200)
    extensions.STAKE.register(recorder(later, "after the refusal"), order=300)
    transactions_before, outbox_before = Transaction.objects.count(), OutboxEvent.objects.count()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(LimitReached) as refused:
        bet(player, 700)
    # then
    assert refused.value.code == "LIMIT_REACHED"
    assert refused.value.extra == {"balance": 1_000, "currency": "EUR", "limit_source": "test"}
    assert wallet(player) == (1_000, 0, 1)
    assert Transaction.objects.count() == transactions_before
    assert OutboxEvent.objects.count() == outbox_before
    assert callbacks == []
    assert later == []  # a refusal stops the participants after it


# --- the arrows ----------------------------------------------------------------------------------


def imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import in a module of `package`, in every form: `import a.b`,
    `from a import b` (as `a.b`, so `from apps import compliance` is seen), relative imports
    resolved against `package`, and `import_module("…")` / `__import__("…")` with a literal name;
    inside functions and `if TYPE_CHECKING:` blocks too."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def imports_of_compliance(source: str, package: str) -> list[tuple[int, str]]:
    return [
        (line, module)
        for line, module in imported_modules(ast.parse(source), package)
        if module == "apps.compliance" or module.startswith("apps.compliance.")
    ]


def test_the_wallet_imports_nothing_from_compliance():
    modules = [path for path in WALLET.rglob("*.py") if "tests" not in path.relative_to(WALLET).parts]
    assert WALLET / "services.py" in modules
    assert len(modules) > 15  # the walk found the package, not an empty folder

    offending = {
        str(path.relative_to(WALLET)): found
        for path in modules
        if (found := imports_of_compliance(path.read_text(), _package_of(path)))
    }

    assert offending == {}


def _package_of(path: Path) -> str:
    """`apps.wallet.api` for apps/wallet/api/views.py (and for apps/wallet/api/__init__.py)."""
    parts = path.relative_to(WALLET.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1])


@pytest.mark.parametrize(
    ("source", "package"),
    [
        ("from apps.compliance import gate as compliance", "apps.wallet"),
        ("import apps.compliance.gate", "apps.wallet"),
        ("import apps.compliance", "apps.wallet"),
        ("from apps import compliance", "apps.wallet"),
        ("from apps.compliance.gate import assert_may_stake", "apps.wallet"),
        ("from ..compliance import gate", "apps.wallet"),
        ("from ...compliance.gate import assert_may_stake", "apps.wallet.api"),
        ("from .. import compliance", "apps.wallet"),
        ("def late():\n    from apps.compliance import gate", "apps.wallet"),
        ("if TYPE_CHECKING:\n    from apps.compliance.errors import LimitReached", "apps.wallet"),
        ("import importlib\ngate = importlib.import_module('apps.compliance.gate')", "apps.wallet"),
        ("from importlib import import_module\ngate = import_module('apps.compliance.gate')", "apps.wallet"),
        ("gate = __import__('apps.compliance.gate')", "apps.wallet"),
    ],
)  # fmt: skip
def test_the_check_sees_every_form_of_import(source, package):
    assert len(imports_of_compliance(source, package)) == 1


def test_the_check_lets_the_wallet_import_its_own_and_common():
    source = (
        "from apps.wallet import extensions\nfrom . import locks\nfrom .api import views\n"
        "from apps.common.errors import PamError\nimport apps.accounts.selectors\n"
        "doc = 'compliance registers apps.compliance.gate at the extension point'"
    )
    assert imports_of_compliance(source, "apps.wallet") == []


@pytest.mark.django_db
def test_a_participant_may_return_what_to_run_once_the_movement_is_written(moments):
    player = funded_player(1_000)
    seen = []

    def participant(*, wallet, **_):
        def after(*, transaction):
            seen.append((transaction.kind, transaction.amount, wallet.cash.balance))

        return after

    extensions.STAKE.register(participant, order=200)
    # when
    posted = bet(player, 700)
    # then: called with the written transaction, the locked wallet already moved
    assert seen == [(TransactionKind.BET, -700, 300)]
    assert posted.balance == 300


@pytest.mark.django_db
def test_a_refusal_after_the_write_rolls_the_movement_back(moments):
    player = funded_player(1_000)

    def participant(**_):
        def after(**_):
            raise LimitReached("Refused once written.")

        return after

    extensions.STAKE.register(participant, order=200)
    transactions_before = Transaction.objects.count()
    # when
    with pytest.raises(LimitReached) as refused:
        bet(player, 700)
    # then
    assert refused.value.extra["balance"] == 1_000
    assert wallet(player) == (1_000, 0, 1)
    assert Transaction.objects.count() == transactions_before


@pytest.mark.django_db
def test_a_refusal_after_the_write_forgets_the_system_account_its_transaction_created(moments):
    # The first bet in a currency creates the house's account in its own transaction; refused
    # after the write, that creation rolls back, and a remembered id of it would make the next bet
    # write entries on an account that does not exist (a foreign key failing at commit).
    services.forget_system_accounts()
    player = funded_player(1_000)
    assert not Account.objects.filter(code="house", currency_id="EUR").exists()
    refusals = [LimitReached("Refused once written.")]

    def participant(**_):
        def after(**_):
            if refusals:
                raise refusals.pop()

        return after

    extensions.STAKE.register(participant, order=200)
    with pytest.raises(LimitReached):
        bet(player, 700)
    assert not Account.objects.filter(code="house", currency_id="EUR").exists()
    # when
    posted = bet(player, 300)
    # then: the bet's entries name the house's account as it is now, checked here, not at teardown
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert posted.balance == 700
    assert Account.objects.filter(code="house", currency_id="EUR").count() == 1
