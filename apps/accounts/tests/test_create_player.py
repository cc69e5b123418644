"""services.create_player: a player set up outside the sign-up form, under registration's rules."""

import ast
from pathlib import Path

import pytest

from apps.accounts import errors, services
from apps.accounts.models import Brand, Player, User
from apps.accounts.tests.factories import PASSWORD, make_brand, make_player

pytestmark = pytest.mark.django_db


def test_create_player_makes_a_player_in_the_sandbox_brand_it_creates():
    assert Brand.objects.filter(code="sandbox").exists() is False

    player = services.create_player(username="sandy", password=PASSWORD, currency="USD")

    assert (player.user.username, player.email, player.brand.code, player.brand.name) == (
        "sandy", "sandy@sandbox.invalid", "sandbox", "Sandbox"
    )  # fmt: skip
    assert (player.currency_id, player.country, str(player.date_of_birth)) == ("USD", "MT", "1990-01-01")
    assert player.user.check_password(PASSWORD)


def test_create_player_in_an_existing_brand_and_country():
    make_brand("acme", "Acme Casino")

    player = services.create_player(username="sandy", password=PASSWORD, currency="EUR", brand="acme", country="DE")

    assert (player.brand.code, player.brand.name, player.country) == ("acme", "Acme Casino", "DE")


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"currency": "XXX"}, errors.UnknownCurrency),
        ({"password": "123"}, errors.WeakPassword),
    ],
)
def test_a_refused_player_leaves_nothing_behind_not_even_the_brand(overrides, refusal):
    with pytest.raises(refusal):
        services.create_player(**{"username": "sandy", "password": PASSWORD, "currency": "EUR", **overrides})

    assert User.objects.filter(username="sandy").exists() is False
    assert Brand.objects.filter(code="sandbox").exists() is False


def test_a_taken_username_is_refused():
    make_player(username="sandy")

    with pytest.raises(errors.UsernameTaken):
        services.create_player(username="sandy", password=PASSWORD, currency="EUR")

    assert Player.objects.count() == 1


def test_accounts_never_imports_the_wallet():
    """The arrows: accounts is below the wallet; funding a player is the back office's job."""
    root = Path(services.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            offenders += [f"{path.relative_to(root)}: {name}" for name in names if name.startswith("apps.wallet")]
    assert offenders == []
