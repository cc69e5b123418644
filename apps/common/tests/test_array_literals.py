"""Arrays sent as their text forms (apps/common/db.py): PostgreSQL reads back exactly the values
written, whatever characters a string holds."""

from decimal import Decimal

import pytest
from django.db import connection

from apps.common.db import numbers_array, texts_array

pytestmark = pytest.mark.django_db

ODD_TEXTS = [
    "open",
    "",
    " ",
    "a,b",
    "{x}",
    'say "hi"',
    "back\\slash",
    "\\",
    '"',
    "NULL",
    "null",
    "é ü ß",
    "tab\tnew\nline",
]


def _read_back(literal: str, sql_type: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{sql_type}", [literal])
        return cursor.fetchone()[0]


def test_texts_come_back_as_written():
    assert _read_back(texts_array(ODD_TEXTS), "text[]") == ODD_TEXTS
    assert _read_back(texts_array([]), "text[]") == []


def test_each_odd_text_is_one_element():
    for text in ODD_TEXTS:
        assert _read_back(texts_array([text, text]), "text[]") == [text, text]


def test_numbers_come_back_as_written():
    integers = [0, 1, -1, 2**63 - 1, -(2**63)]
    assert _read_back(numbers_array(integers), "bigint[]") == integers
    prices = [Decimal("1.01"), Decimal("2.50"), Decimal("1000.00"), Decimal("1E+2"), Decimal("-0.5")]
    assert _read_back(numbers_array(prices), "numeric[]") == prices
    assert _read_back(numbers_array(iter([1, 2])), "bigint[]") == [1, 2]  # any iterable, read once


@pytest.mark.parametrize("value", [1.5, "1", True, None])
def test_numbers_take_ints_and_decimals_only(value):
    with pytest.raises(TypeError):
        numbers_array([1, value])
