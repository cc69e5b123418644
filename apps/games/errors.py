from apps.common.errors import PamError


class InvalidSignature(PamError):
    code = "INVALID_SIGNATURE"
    status = 401
    default_message = "Signature missing or wrong, or provider unknown or disabled."


class TokenInvalid(PamError):
    code = "TOKEN_INVALID"
    status = 401
    default_message = "Unknown, used or expired token."


class UnknownGame(PamError):
    code = "UNKNOWN_GAME"
    status = 404
    default_message = "There is no such game."


class GameUnavailable(PamError):
    """The game, or its provider, is disabled, or the provider's games cannot be launched from PAM
    (it has no launch URL)."""

    code = "GAME_UNAVAILABLE"
    status = 409
    default_message = "This game is not available now."
