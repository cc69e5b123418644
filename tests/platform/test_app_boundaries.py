"""Which app may call which: ARCHITECTURE.md's arrows, as the code obeys them
(docs/architecture.md, "Which app may call which").

`ARROWS` is the table as data: for each app (or a package of it, such as `wallet.api`, which
adds to its app's arrows), the modules of each other app it may import. Every module of every
app except its tests and migrations is read with `ast`, and every import of another app is
checked against it: `import` and `from … import`, relative ones, imports inside functions, and
`import_module("apps.…")` / `import_string("apps.…")` with a literal name.

The rules, by the module imported:

- `services` (writes) only where the table says an app calls the other's services;
- `selectors` (reads) where it says the app reads the other;
- `models`, `choices` and `errors` wherever an app calls or reads the other: a ForeignKey, a
  read-only type, a choice to compare with, an error to catch. Importing a model is no licence to
  query or write its table: reads go through selectors, writes through services;
- `signals` to receive the other app's events: wherever an arrow exists, and alone where an app
  only receives (realtime receives compliance's events, and calls nothing of it);
- `extensions` where an app plugs into the other's extension point at start-up;
- `common` is the shared kernel, open to every app, and imports none.

A file that must break the table for a while is named in `EXCEPTIONS`, with why (none today).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import apps

APPS = Path(apps.__file__).resolve().parent

ALL = frozenset({"*"})  # every module of the other app
TYPES = frozenset({"models", "choices", "errors"})
RECEIVE = frozenset({"signals"})
READ = TYPES | RECEIVE | {"selectors"}
CALL = READ | {"services"}

# What payments, bonuses, games and sportsbook may use: the wallet's services to move money,
# compliance's checks (its selectors, and `gate`: the refusals of the money path, which the cashier asks
# before a player pays), accounts' selectors; work that must commit with the money
# plugs into the wallet's extension point.
_PRODUCT = {"common": ALL, "accounts": READ, "wallet": CALL | {"extensions"}, "compliance": READ | {"gate"}}

ARROWS: dict[str, dict[str, frozenset[str]]] = {
    "common": {},
    "accounts": {"common": ALL},
    # Registration sets the first deposit limit and reads the jurisdiction's offer: one module
    # that the player API's and the site's registration views both call.
    "accounts.signup": {"compliance": CALL},
    "wallet": {"common": ALL, "accounts": READ},
    # The provider API looks up the provider and consumes the player's launch token.
    "wallet.api": {"games": CALL},
    "games": _PRODUCT,
    "payments": _PRODUCT,
    # Writes the player's bonus state (what the wallet's lock reads) through accounts' services;
    # reads a game's type for the wagering weights.
    "bonuses": {**_PRODUCT, "accounts": CALL, "games": READ},
    "sportsbook": _PRODUCT,
    # PAM's own games: to reach the wallet only over the signed provider API, like an external
    # studio, so it imports nothing of the other apps and could be lifted out into its own service.
    "studio": {"common": ALL},
    # Writes the player row through accounts' services; reads the ledger through the wallet's
    # selectors; plugs its checks into the wallet's money transaction and its exclusion notice and
    # reality-check timer into a player's socket, through their extension points; receives the
    # cashier's events (failed deposits for the behaviour rules, a deposit's instrument for the
    # shared-identity rule), and calls nothing of payments. Reads the games' catalogue: the RTP
    # drift rule judges a game's rounds against its declared RTP and sigma, which only games holds
    # (the wallet's event cannot carry them: the wallet's services may not read games).
    "compliance": {
        "common": ALL,
        "accounts": CALL,
        "wallet": READ | {"extensions"},
        "games": READ,
        "realtime": frozenset({"extensions"}),
        "payments": RECEIVE,
    },
    # Resume and polling read the ledger; compliance's and bonuses' events become notices; the
    # cashier's withdrawal approvals reach the back office's feed; the sportsbook's market changes
    # reach the odds sockets, whose snapshot reads its markets.
    "realtime": {
        "common": ALL,
        "accounts": READ,
        "wallet": READ,
        "compliance": RECEIVE,
        "bonuses": RECEIVE,
        "payments": RECEIVE,
        "sportsbook": READ,
    },
    # The admin site: every app's services and selectors; its login form is accounts' (the
    # login throttle's refusal); the staff roles' permissions, for the permission matrix.
    "backoffice": {
        "common": ALL,
        "accounts": CALL | {"forms", "roles"},
        **dict.fromkeys(("wallet", "games", "payments", "bonuses", "realtime"), CALL),
        # The sportsbook's demo book (demo.py), which the demo seeds: a feed's batch and bets,
        # written in the sportsbook's own message and slip types through its services.
        "sportsbook": CALL | {"demo"},
        # cases.py is compliance's service module for cases (the demo opens one).
        "compliance": CALL | {"cases"},
        # The studio's catalogue, to register its games as a provider's (apps/backoffice/studio.py):
        # a studio lifted out into its own service would publish its catalogue over HTTP instead.
        "studio": frozenset({"catalogue"}),
    },
}

# (file, module imported): why it is allowed for now. Each must still be in the code: a stale
# exception fails the test, so the list shrinks as the code is fixed.
EXCEPTIONS: dict[tuple[str, str], str] = {}

_DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}


def module_name(path: Path) -> str:
    """`apps.wallet.api.views` for apps/wallet/api/views.py (`apps.wallet.api` for its __init__)."""
    parts = path.relative_to(APPS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in `source`, the module `module`, however it is
    written; relative imports resolved. `from x import y` gives `x.y` (y may be a module)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in _DYNAMIC_IMPORTS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def allowed_for(module: str) -> dict[str, frozenset[str]]:
    """The arrows of `module` (`apps.wallet.api.views`): its app's, plus those of each package
    of it that the table names (`wallet.api`)."""
    own = module.split(".")[1:]
    allowed: dict[str, frozenset[str]] = {}
    for depth in range(1, len(own) + 1):
        for other, modules in ARROWS.get(".".join(own[:depth]), {}).items():
            allowed[other] = allowed.get(other, frozenset()) | modules
    return allowed


def violations_in(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, import) of each import of another app that the table does not allow."""
    app = module.split(".")[1]
    allowed = allowed_for(module)
    found = []
    for line, name in imported_modules(source, module, is_package):
        parts = name.split(".")
        if parts[0] != "apps" or len(parts) < 2 or parts[1] == app:
            continue
        other, target = parts[1], parts[2] if len(parts) > 2 else None
        modules = allowed.get(other, frozenset())
        if modules != ALL and target not in modules:
            found.append((line, name))
    return found


def app_modules() -> list[Path]:
    """Every module of every app (apps/<app>/**), but its tests and migrations."""
    return [
        path for path in sorted(APPS.rglob("*.py"))
        if len(path.relative_to(APPS).parts) > 1 and not {"tests", "migrations"} & set(path.relative_to(APPS).parts)
    ]  # fmt: skip


def test_every_app_imports_only_what_the_arrows_allow():
    modules = app_modules()
    assert len(modules) > 100  # the walk found the apps, not an empty folder
    assert {path.relative_to(APPS).parts[0] for path in modules} >= {"accounts", "wallet", "compliance", "realtime"}

    offending, excepted = [], set()
    for path in modules:
        relative = path.relative_to(APPS).as_posix()
        source = path.read_text()
        for line, name in violations_in(source, module_name(path), path.name == "__init__.py"):
            if (relative, name) in EXCEPTIONS:
                excepted.add((relative, name))
            else:
                offending.append(f"apps/{relative}:{line}: imports {name}")

    assert offending == [], "imports the arrows do not allow (tests/platform/test_app_boundaries.py):\n" + "\n".join(
        offending
    )
    assert set(EXCEPTIONS) - excepted == set(), "an exception no longer needed: remove it from EXCEPTIONS"


def test_every_app_of_the_project_has_its_arrows():
    apps_on_disk = {path.name for path in APPS.iterdir() if (path / "apps.py").is_file()}
    assert apps_on_disk <= set(ARROWS)
    for arrows in ARROWS.values():
        assert set(arrows) <= set(ARROWS), "an arrow to an app that is not in the table"


@pytest.mark.parametrize(
    ("module", "source", "found"),
    [
        ("apps.compliance.services", "from apps.realtime import services", "apps.realtime.services"),
        ("apps.compliance.services", "import apps.realtime.services", "apps.realtime.services"),
        ("apps.compliance.services", "from apps.realtime.services import notify_player",
         "apps.realtime.services.notify_player"),
        ("apps.compliance.services", "def later():\n    from apps.realtime import push", "apps.realtime.push"),
        ("apps.compliance.services", "from ..realtime import services", "apps.realtime.services"),
        ("apps.compliance.services", "from apps import realtime", "apps.realtime"),
        ("apps.compliance.services", "import_module('apps.realtime.services')", "apps.realtime.services"),
        ("apps.realtime.consumers", "from apps.compliance import services", "apps.compliance.services"),
        ("apps.realtime.consumers", "from apps.compliance.models import Exclusion", "apps.compliance.models.Exclusion"),
        ("apps.realtime.consumers", "from apps.accounts import services", "apps.accounts.services"),
        ("apps.accounts.admin", "from apps.compliance import services", "apps.compliance.services"),
        ("apps.accounts.views", "from apps.compliance import services", "apps.compliance.services"),
        ("apps.accounts.services", "from apps.compliance import selectors", "apps.compliance.selectors"),
        ("apps.wallet.services", "from apps.games import services", "apps.games.services"),
        ("apps.wallet.services", "from apps.compliance import gate", "apps.compliance.gate"),
        ("apps.common.events", "from apps.wallet import signals", "apps.wallet.signals"),
        ("apps.wallet.api.views", "from apps.realtime import services", "apps.realtime.services"),
        ("apps.compliance.engine", "from apps.payments import services", "apps.payments.services"),
    ],
)  # fmt: skip
def test_the_check_sees_every_form_of_a_forbidden_import(module, source, found):
    assert [name for _, name in violations_in(source, module)] == [found]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("apps.realtime.receivers", "from apps.compliance import signals"),
        ("apps.compliance.receivers", "from apps.payments.signals import deposit_failed"),
        ("apps.realtime.consumers", "from apps.accounts import selectors\nfrom apps.accounts.models import Player"),
        ("apps.accounts.signup", "from apps.compliance import selectors, services"),
        ("apps.wallet.api.signature", "from apps.games import selectors\nfrom apps.games.errors import Unknown"),
        ("apps.wallet.api.views", "from apps.games import services"),
        ("apps.compliance.apps", "from apps.realtime import extensions\nfrom apps.wallet import extensions"),
        ("apps.compliance.services", "from apps.accounts import services\nfrom apps.common.events import x"),
        ("apps.backoffice.views", "from apps.wallet import services\nfrom apps.accounts.forms import StaffLoginForm"),
        ("apps.wallet.services", "from . import locks\nfrom .errors import InsufficientFunds\nimport django.db"),
        ("apps.wallet.api", "from .views import BetView"),
    ],
)  # fmt: skip
def test_the_check_lets_through_what_the_arrows_allow(module, source):
    assert violations_in(source, module, is_package=module == "apps.wallet.api") == []
