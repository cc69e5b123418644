"""Test data built through the services, so every row is one the product could have made."""

from __future__ import annotations

import datetime as dt
import itertools

from apps.accounts import services
from apps.accounts.choices import StaffRole
from apps.accounts.models import Brand, Player, User

PASSWORD = "correct-horse-battery-9"
_numbers = itertools.count(1)


def make_brand(code: str = "acme", name: str = "Acme Casino") -> Brand:
    return Brand.objects.get_or_create(code=code, defaults={"name": name})[0]


def registration(**overrides) -> services.Registration:
    n = next(_numbers)
    fields = {
        "username": f"player{n}",
        "email": f"player{n}@example.com",
        "password": PASSWORD,
        "date_of_birth": dt.date(1990, 1, 1),
        "country": "MT",
        "currency": "EUR",
        "brand": "acme",
    }
    return services.Registration(**{**fields, **overrides})


def make_player(**overrides) -> Player:
    make_brand(overrides.get("brand", "acme"))
    return services.register_player(registration(**overrides))


def make_staff(role: StaffRole, username: str | None = None) -> User:
    return services.create_staff_user(
        username=username or f"{role.value}{next(_numbers)}", password=PASSWORD, role=role
    )
