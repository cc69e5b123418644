from apps.common.errors import PamError


class PlayerBlocked(PamError):
    code = "PLAYER_BLOCKED"
    status = 403
    default_message = "The player may not play now."


class LimitReached(PamError):
    code = "LIMIT_REACHED"
    status = 403
    default_message = "This would break one of the player's responsible-gambling limits."
