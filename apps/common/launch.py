"""The signed launch URL that PAM hands a game provider's page (docs/studio.md, "Launch").

PAM's launch service builds it (games) and the studio checks it: besides the one-time token, the
launch carries the player's jurisdiction rules for play (the shortest game cycle, whether autoplay
is allowed, whether the session's net position and time are shown), signed with the provider's
secret so that a player who edits the URL gets no game rather than a faster one.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

# The launch parameters besides the signature; every one is required.
PARAMETERS = ("token", "jurisdiction", "min_cycle_ms", "autoplay", "session_info")


def signature(secret: str, game_code: str, params: dict[str, str]) -> str:
    """Lowercase hex HMAC-SHA256, keyed with the provider's secret, of `launch`, the game's code
    and the parameters in PARAMETERS order, one per line: a launch signed for one game does not
    open another."""
    canonical = "\n".join(["launch", game_code, urlencode([(name, params[name]) for name in PARAMETERS])])
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def signed_query(secret: str, game_code: str, params: dict[str, str]) -> str:
    """The launch URL's query string: the parameters, then `sig`."""
    ordered = [(name, str(params[name])) for name in PARAMETERS]
    return urlencode([*ordered, ("sig", signature(secret, game_code, dict(ordered)))])


def verify(secret: str, game_code: str, query: dict[str, str]) -> dict[str, str] | None:
    """The launch parameters of `query` when its signature holds, else None."""
    if any(not isinstance(query.get(name), str) for name in (*PARAMETERS, "sig")):
        return None
    params = {name: query[name] for name in PARAMETERS}
    if not hmac.compare_digest(signature(secret, game_code, params), query["sig"]):
        return None
    return params
