"""The staff trail's distinct action codes and actors, for the back office's filters of its list
(docs/backoffice.md, "Large tables in the admin").

They are a few dozen values over millions of records, which DISTINCT or GROUP BY would read all
of. Each is read instead along an index that leads with it (`staff_action_action_idx`,
`staff_action_actor_idx`), one probe per value: a recursive query asks the index for the
smallest value above the last one found (a "loose index scan"). Plain SQL, since the ORM has no
recursive query; written so that SQLite (embedded mode) runs it too. Reads only.
"""

from __future__ import annotations

from django.db import connection

from apps.accounts import selectors as accounts_selectors
from apps.compliance.models import StaffAction

_DISTINCT_LEADING = """
WITH RECURSIVE found(value) AS (
    SELECT MIN({column}) FROM {table}
    UNION ALL
    SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > found.value) FROM found WHERE found.value IS NOT NULL
)
SELECT value FROM found WHERE value IS NOT NULL
"""


def _distinct_leading(column: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(_DISTINCT_LEADING.format(column=column, table=StaffAction._meta.db_table))
        return [row[0] for row in cursor.fetchall()]


def list_action_codes() -> list[str]:
    """Every action code in the staff trail, in order."""
    return _distinct_leading("action")


def list_actors() -> list[tuple[int, str]]:
    """Every staff member with a record in the trail, as (user id, username), by username."""
    names = accounts_selectors.usernames(_distinct_leading("actor_id"))
    return sorted(names.items(), key=lambda item: item[1])
