"""The only place that builds channel-layer group names."""

BACKOFFICE_FEED = "backoffice.feed"


def player_group(player_id: int | str) -> str:
    return f"player.{player_id}"
