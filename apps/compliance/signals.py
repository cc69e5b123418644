"""Domain events of player protection, sent through `send_after_commit` (recorded in the outbox
in the deciding transaction, dispatched after its commit), but for `limit_reached`, which a
refusal sends at once. Payloads are JSON values only.

What the player sees of them (notices, closed sockets) is the real-time app's: its receivers
subscribe here, so compliance never calls it."""

from django.dispatch import Signal

from apps.common.events import DomainSignal

# player_id: str, kind: "time_out"|"self_exclusion", ends_at: ISO-8601. Compliance's receiver ends
# the player's sessions and tokens, then sends `account_locked`.
player_excluded = DomainSignal("compliance.player_excluded")

# player_id: str, kind: "deposit"|"loss"|"wager"|"session" (LimitKind), period: str ("" for a
# session limit), status: LimitChangeStatus ("applied", "queued", "confirmed", "matured"),
# old_amount, new_amount: int | None (minor units of the player's currency, minutes for a session
# limit; None: no limit), effective_at, created_at: ISO-8601. One per `LimitChange` row, in its
# transaction; the real-time app shows it on the back office's live feed.
limit_changed = DomainSignal("compliance.limit_changed")

# player_id: str, due_at: ISO-8601 (the due time the bet saw: one check is sent per due time).
reality_check_due = DomainSignal("compliance.reality_check_due")

# player_id: str, kind: str (the notice's kind: "account_locked", "reality_check", "limit_reached"
# for a stake that used a limit up exactly), message: str,
# data: dict of JSON values. A notice to every open socket of the player, e.g. why money stopped
# moving (a KYC hold) or a reality check. Events recorded before `kind` and `data` existed carry
# `reason` instead: an `account_locked` notice with data {"reason": reason}.
player_notice = DomainSignal("compliance.player_notice")

# player_id: str, message: str (the refusal's), data: {"kind", "period", "amount", "remaining"} (the
# limit as the refusal's `error.limit` says it; a session limit's also `started_at`). A limit
# refused the player's stake or deposit. Sent at once, as the refusal is raised, not through the
# outbox: the refusal's transaction rolls back, and with it any event recorded or registered on
# commit. So a receiver runs inside that transaction, under the player's lock: it must not wait
# on anything slow (the real-time app hands its push to the server's loop), and never raises.
limit_reached = Signal()

# player_id: str, message: str, data: dict of JSON values. The player may no longer be on a live
# play socket (an exclusion started, after their sessions ended): every socket gets an
# `account_locked` notice saying why, then is closed.
account_locked = DomainSignal("compliance.account_locked")

# alert_id: str, player_id: str, rule: str (the rule's code), rule_version: int, rule_type: str,
# severity: str, value: int, threshold: int (the value at which it fires), currency: str,
# created_at: ISO-8601. A behaviour rule raised an alert (docs/rules.md): the real-time app pushes
# it to the back office's live feed at once.
alert_raised = DomainSignal("compliance.alert_raised")
