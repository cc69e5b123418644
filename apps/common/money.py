"""Money helpers: amounts are integers in the currency's minor unit, never floats.

`ISO_4217` is the seed of the Currency table (code -> (name, minor-unit exponent)): EUR 2, JPY 0,
BHD 3. Only active circulating currencies; funds codes and precious metals are left out.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = 10**12  # the largest amount any API accepts, in minor units

_EXPONENT_0 = {
    "BIF": "Burundian franc", "CLP": "Chilean peso", "DJF": "Djiboutian franc",
    "GNF": "Guinean franc", "ISK": "Icelandic krona", "JPY": "Japanese yen",
    "KMF": "Comorian franc", "KRW": "South Korean won", "PYG": "Paraguayan guarani",
    "RWF": "Rwandan franc", "UGX": "Ugandan shilling", "VND": "Vietnamese dong",
    "VUV": "Vanuatu vatu", "XAF": "Central African CFA franc", "XOF": "West African CFA franc",
    "XPF": "CFP franc",
}  # fmt: skip
_EXPONENT_3 = {
    "BHD": "Bahraini dinar", "IQD": "Iraqi dinar", "JOD": "Jordanian dinar",
    "KWD": "Kuwaiti dinar", "LYD": "Libyan dinar", "OMR": "Omani rial", "TND": "Tunisian dinar",
}  # fmt: skip
_EXPONENT_2 = {
    "AED": "UAE dirham", "AFN": "Afghan afghani", "ALL": "Albanian lek", "AMD": "Armenian dram",
    "AOA": "Angolan kwanza", "ARS": "Argentine peso", "AUD": "Australian dollar",
    "AWG": "Aruban florin", "AZN": "Azerbaijani manat", "BAM": "Bosnia and Herzegovina mark",
    "BBD": "Barbados dollar", "BDT": "Bangladeshi taka", "BGN": "Bulgarian lev",
    "BMD": "Bermudian dollar", "BND": "Brunei dollar", "BOB": "Boliviano",
    "BRL": "Brazilian real", "BSD": "Bahamian dollar", "BTN": "Bhutanese ngultrum",
    "BWP": "Botswana pula", "BYN": "Belarusian ruble", "BZD": "Belize dollar",
    "CAD": "Canadian dollar", "CDF": "Congolese franc", "CHF": "Swiss franc",
    "CNY": "Renminbi", "COP": "Colombian peso", "CRC": "Costa Rican colon",
    "CUP": "Cuban peso", "CVE": "Cape Verdean escudo", "CZK": "Czech koruna",
    "DKK": "Danish krone", "DOP": "Dominican peso", "DZD": "Algerian dinar",
    "EGP": "Egyptian pound", "ERN": "Eritrean nakfa", "ETB": "Ethiopian birr", "EUR": "Euro",
    "FJD": "Fiji dollar", "FKP": "Falkland Islands pound", "GBP": "Pound sterling",
    "GEL": "Georgian lari", "GHS": "Ghanaian cedi", "GIP": "Gibraltar pound",
    "GMD": "Gambian dalasi", "GTQ": "Guatemalan quetzal", "GYD": "Guyanese dollar",
    "HKD": "Hong Kong dollar", "HNL": "Honduran lempira", "HTG": "Haitian gourde",
    "HUF": "Hungarian forint", "IDR": "Indonesian rupiah", "ILS": "Israeli new shekel",
    "INR": "Indian rupee", "IRR": "Iranian rial", "JMD": "Jamaican dollar",
    "KES": "Kenyan shilling", "KGS": "Kyrgyzstani som", "KHR": "Cambodian riel",
    "KPW": "North Korean won", "KYD": "Cayman Islands dollar", "KZT": "Kazakhstani tenge",
    "LAK": "Lao kip", "LBP": "Lebanese pound", "LKR": "Sri Lankan rupee",
    "LRD": "Liberian dollar", "LSL": "Lesotho loti", "MAD": "Moroccan dirham",
    "MDL": "Moldovan leu", "MGA": "Malagasy ariary", "MKD": "Macedonian denar",
    "MMK": "Myanmar kyat", "MNT": "Mongolian togrog", "MOP": "Macanese pataca",
    "MRU": "Mauritanian ouguiya", "MUR": "Mauritian rupee", "MVR": "Maldivian rufiyaa",
    "MWK": "Malawian kwacha", "MXN": "Mexican peso", "MYR": "Malaysian ringgit",
    "MZN": "Mozambican metical", "NAD": "Namibian dollar", "NGN": "Nigerian naira",
    "NIO": "Nicaraguan cordoba", "NOK": "Norwegian krone", "NPR": "Nepalese rupee",
    "NZD": "New Zealand dollar", "PAB": "Panamanian balboa", "PEN": "Peruvian sol",
    "PGK": "Papua New Guinean kina", "PHP": "Philippine peso", "PKR": "Pakistani rupee",
    "PLN": "Polish zloty", "QAR": "Qatari riyal", "RON": "Romanian leu",
    "RSD": "Serbian dinar", "RUB": "Russian ruble", "SAR": "Saudi riyal",
    "SBD": "Solomon Islands dollar", "SCR": "Seychelles rupee", "SDG": "Sudanese pound",
    "SEK": "Swedish krona", "SGD": "Singapore dollar", "SHP": "Saint Helena pound",
    "SLE": "Sierra Leonean leone", "SOS": "Somali shilling", "SRD": "Surinamese dollar",
    "SSP": "South Sudanese pound", "STN": "Sao Tome and Principe dobra",
    "SVC": "Salvadoran colon", "SYP": "Syrian pound", "SZL": "Swazi lilangeni",
    "THB": "Thai baht", "TJS": "Tajikistani somoni", "TMT": "Turkmenistan manat",
    "TOP": "Tongan pa'anga", "TRY": "Turkish lira", "TTD": "Trinidad and Tobago dollar",
    "TWD": "New Taiwan dollar", "TZS": "Tanzanian shilling", "UAH": "Ukrainian hryvnia",
    "USD": "United States dollar", "UYU": "Uruguayan peso", "UZS": "Uzbekistan sum",
    "VES": "Venezuelan bolivar", "WST": "Samoan tala", "XCD": "East Caribbean dollar",
    "YER": "Yemeni rial", "ZAR": "South African rand", "ZMW": "Zambian kwacha",
    "ZWG": "Zimbabwe gold",
}  # fmt: skip

ISO_4217: dict[str, tuple[str, int]] = {
    **{code: (name, 0) for code, name in _EXPONENT_0.items()},
    **{code: (name, 2) for code, name in _EXPONENT_2.items()},
    **{code: (name, 3) for code, name in _EXPONENT_3.items()},
}


def format_minor(amount: int, exponent: int) -> str:
    """`format_minor(1250, 2) == "12.50"`: for display only; nothing computes with the result."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"


def parse_minor(text: str, exponent: int) -> int:
    """`parse_minor("12.5", 2) == 1250`: what a player types into a form, as minor units, with no
    float in between. Raises ValueError for anything but a non-negative decimal with at most
    `exponent` digits after the point."""
    text = text.strip()
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() and not (whole == "" and fraction):
        raise ValueError(f"Not an amount: {text!r}.")
    if fraction and (not fraction.isdigit() or len(fraction) > exponent):
        raise ValueError(f"At most {exponent} digits after the point.")
    if not whole.isascii() or not fraction.isascii():
        raise ValueError(f"Not an amount: {text!r}.")
    return int(whole or "0") * 10**exponent + int(fraction.ljust(exponent, "0") or "0")


def convert_minor(amount: int, source, target) -> int:
    """`amount` minor units of the `source` currency in minor units of `target` (each with an
    `exponent` and `units_per_eur`, a reference rate), rounded down, in decimal arithmetic: for
    thresholds, never to move money."""
    value = Decimal(amount).scaleb(-source.exponent) / source.units_per_eur * target.units_per_eur
    return int(value.scaleb(target.exponent).to_integral_value(rounding=ROUND_FLOOR))
