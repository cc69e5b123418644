from apps.common.errors import PamError


class InvalidSignature(PamError):
    code = "INVALID_SIGNATURE"
    status = 401
    default_message = "Signature missing or wrong, or provider unknown or disabled."


class TokenInvalid(PamError):
    code = "TOKEN_INVALID"
    status = 401
    default_message = "Unknown, used or expired token."
