"""A served process leaves its start-up objects to no full garbage collection (apps/common/startup.py):
the ASGI module that uvicorn and runserver load freezes them once it has loaded everything it
serves with, the views included."""

from __future__ import annotations

import os
import sys

from tests.support import clean_env, run

PROBE = """
import gc, sys
import pam.asgi
frozen = gc.get_freeze_count()
views_loaded = "apps.sportsbook.api.views" in sys.modules and "apps.wallet.api.views" in sys.modules
gc.collect()
print(frozen, views_loaded, gc.get_freeze_count() >= frozen)
"""


def test_the_asgi_module_freezes_what_start_up_loaded():
    env = clean_env(DATABASE_URL=os.environ["DATABASE_URL"], REDIS_URL=os.environ["REDIS_URL"], PAM_ENV="dev")

    done = run([sys.executable, "-c", PROBE], env)

    assert done.returncode == 0, done.stderr
    frozen, views_loaded, kept = done.stdout.split()
    # Django, the apps, their models and views: well over a hundred thousand objects.
    assert int(frozen) > 100_000
    assert views_loaded == "True"
    assert kept == "True"
