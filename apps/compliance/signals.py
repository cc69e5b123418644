"""Domain events of player protection, sent through `send_after_commit` (recorded in the outbox
in the deciding transaction, dispatched after its commit). Payloads are JSON values only."""

from apps.common.events import DomainSignal

# player_id: str, kind: "time_out"|"self_exclusion", ends_at: ISO-8601. The receiver ends the
# player's sessions and closes their sockets.
player_excluded = DomainSignal("compliance.player_excluded")

# player_id: str, due_at: ISO-8601 (the due time the bet saw: one check is sent per due time).
reality_check_due = DomainSignal("compliance.reality_check_due")

# player_id: str, reason: str, message: str. Tells the player why money stopped moving (a KYC hold).
player_notice = DomainSignal("compliance.player_notice")
