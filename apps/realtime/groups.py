"""The only place that builds channel-layer group names."""

BACKOFFICE_FEED = "backoffice.feed"
# Every market's changes, for the odds sockets: one member per server process (odds.py's relay),
# which hands each change to the sockets that follow its event.
ODDS = "sportsbook.odds"


def player_group(player_id: int | str) -> str:
    return f"player.{player_id}"


def backoffice_staff_group(user_id: int | str) -> str:
    """Every back-office socket of one staff member, beside the feed: where a change of their
    access, or the end of one of their sessions, reaches the sockets it concerns."""
    return f"backoffice.staff.{user_id}"
