"""Loaded by pytest before Django (`-p tests.plugin`): points the settings at the test services.

The environment is set here, at import, because pytest-django reads the settings before any
conftest runs. Tests never read the developer's `.env`.
"""

import os
import secrets

import pytest

from tests import preflight

os.environ["DATABASE_URL"] = preflight.test_database_url()
os.environ["REDIS_URL"] = preflight.test_redis_url()
os.environ["PAM_ENV"] = "dev"
os.environ["ENV_FILE"] = os.devnull
os.environ.pop("DEBUG", None)
# Concurrency tests hold one connection per thread (50 at once); production's default is 8.
os.environ["DB_POOL_MAX"] = "60"
# The sandbox PSP pays no withdrawal by itself in tests: payout events are posted by the tests.
os.environ["PSP_SANDBOX_AUTOPAY"] = "false"
# The sportsbook's release timer and liability throttle act after commit on their own (a thread,
# a suspension): off unless a test turns them on (their own tests do), so that the other tests'
# bets stay pending until they release them and their markets open until they close them.
os.environ["SPORTSBOOK_RELEASE_TIMER"] = "false"
os.environ["SPORTSBOOK_THROTTLE_CAP_SHARE"] = "0"
# A feed's results are settled in the committing thread, right after the commit: a test sees the
# settlement once its batch has committed, and no worker thread outlives it.
os.environ["SPORTSBOOK_SETTLE_IN_BACKGROUND"] = "false"
# Keys of this run only: a developer's `make run` on the same Redis never sees test messages.
_run = secrets.token_hex(4)
os.environ["CHANNEL_LAYER_PREFIX"] = f"pamtest{_run}"
os.environ["CACHE_KEY_PREFIX"] = f"pamtest{_run}"


# The tests that hold the most connections at once (up to 50 threads, each with its own): one
# unit of work for pytest-xdist, so that no two of them run at the same time on two workers.
MANY_CONNECTIONS = "tests/concurrency/"


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile` (`make test`): a unit of work per file, but one for every file of
    MANY_CONNECTIONS, which a single worker then runs one after another."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class _Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return MANY_CONNECTIONS if nodeid.startswith(MANY_CONNECTIONS) else super()._split_scope(nodeid)

    return _Scheduling(config, log)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (`make test`): a worker per core, as PostgreSQL's connections allow."""
    cores = len(os.sched_getaffinity(0))
    try:
        allowed = preflight.max_connections(preflight.test_database_url())
    except Exception:  # PostgreSQL is away: one worker, and pytest_configure says why
        return 1
    count = preflight.workers(cores, allowed)
    if count < cores:
        print(
            f"PostgreSQL's max_connections is {allowed}: the suite runs on {count} worker(s) for {cores} cores "
            "(raise max_connections to run on every core)"
        )
    return count


def pytest_configure(config: pytest.Config) -> None:
    found = preflight.problems()
    if found:
        pytest.exit("\n".join(["", *found, "The test suite needs both services and never skips."]), returncode=3)
