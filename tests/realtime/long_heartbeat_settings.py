"""A PAM server whose heartbeat does not come within a test (the contract's 25 s bound is for
deployments): what reaches a socket then can only come from the push and the re-join after a
Redis outage, never from a beat."""

from pam.settings import *  # noqa: F403

REALTIME_HEARTBEAT_SECONDS = 120.0
