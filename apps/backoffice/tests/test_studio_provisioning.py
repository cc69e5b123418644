"""PAM's own studio is a provider of the games app from the first `migrate` on (a post_migrate
receiver, apps/backoffice/studio.py): its code, secret and launch URL follow the settings, its games
the studio's catalogue; an operator's choice to disable one is kept, and `seed_demo` enables them."""

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.games.models import Game, Provider
from apps.studio import catalogue

pytestmark = pytest.mark.django_db


def studio() -> Provider:
    return Provider.objects.get(code=settings.STUDIO_PROVIDER_CODE)


def test_the_test_database_was_migrated_with_the_studio_and_its_catalogue():
    provider = studio()
    assert (provider.secret, provider.launch_url, provider.enabled) == (
        settings.STUDIO_PROVIDER_SECRET, "/studio/play/{game}/", True
    )  # fmt: skip
    games = {g.code: (g.name, g.game_type, g.enabled) for g in Game.objects.filter(provider=provider)}
    assert games == {g.code: (g.name, g.game_type, True) for g in catalogue.GAMES.values()}


def test_a_migrate_takes_a_changed_secret_and_keeps_what_the_operator_disabled(settings):
    Provider.objects.filter(code=settings.STUDIO_PROVIDER_CODE).update(enabled=False, launch_url="")
    Game.objects.filter(provider__code=settings.STUDIO_PROVIDER_CODE, code="pam-slot").update(enabled=False)
    Game.objects.filter(provider__code=settings.STUDIO_PROVIDER_CODE, code="pam-roulette").delete()
    settings.STUDIO_PROVIDER_SECRET = "a-rotated-studio-secret"

    call_command("migrate", verbosity=0)

    provider = studio()
    assert (provider.secret, provider.launch_url, provider.enabled) == (
        "a-rotated-studio-secret", "/studio/play/{game}/", False
    )  # fmt: skip
    assert Game.objects.get(provider=provider, code="pam-slot").enabled is False
    assert Game.objects.get(provider=provider, code="pam-roulette").enabled is True  # back, as new
    assert Provider.objects.filter(code=settings.STUDIO_PROVIDER_CODE).count() == 1


def test_the_demo_enables_the_studio_and_every_game_of_it(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    Provider.objects.filter(code=settings.STUDIO_PROVIDER_CODE).update(enabled=False)
    Game.objects.filter(provider__code=settings.STUDIO_PROVIDER_CODE).update(enabled=False)

    call_command("seed_demo")

    assert studio().enabled is True
    assert set(Game.objects.filter(provider=studio(), enabled=True).values_list("code", flat=True)) == set(
        catalogue.GAMES
    )
