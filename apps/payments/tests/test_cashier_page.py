"""The site's cashier page (`/cashier/`): a shell for static/js/cashier.js, with the player's
currency, the deposit the player is back from, and the enabled payment providers to choose."""

import pytest

from apps.accounts.tests.factories import make_player
from apps.payments import services
from apps.wallet import services as wallet

pytestmark = pytest.mark.django_db


def test_the_cashier_renders_the_forms_its_config_and_the_enabled_providers(client):
    services.save_provider(code="sandbox", webhook_secret="s" * 32, name="Sandbox PSP")
    services.save_provider(code="acmepay", webhook_secret="s" * 32, name="Acme Pay")
    services.save_provider(code="gone", webhook_secret="s" * 32, name="Switched off", enabled=False)
    player = make_player()
    wallet.adjust_balance(player_id=player.pk, amount=1_000, reason="test funds", acting_user=None)
    client.force_login(player.user)

    page = client.get("/cashier/?deposit=dep_123")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="deposit-form"' in html
    assert 'id="withdraw-form"' in html
    assert '"returned_deposit": "dep_123"' in html
    assert '"currency": "EUR"' in html
    assert '<span id="header-balance">10.00</span>' in html
    assert "js/cashier.js" in html
    # both forms offer the enabled providers, by name; a disabled one is not offered
    assert html.count('<option value="acmepay">Acme Pay</option>') == 2
    assert html.count('<option value="sandbox">Sandbox PSP</option>') == 2
    assert "gone" not in html
    # the slots cashier.js fills from the bonuses API: the deposit's bonus offer (no bonus by
    # default) and the withdrawal's forfeiture warning, hidden until there is something to say
    assert '<fieldset id="bonus-offer" class="bonus-offer" hidden>' in html
    assert '<input type="radio" name="bonus" value="" checked> No bonus' in html
    assert '<p id="withdraw-forfeit-warning" class="warning" hidden></p>' in html
