"""On PostgreSQL, a market's feed is its event's feed: a composite foreign key from the market's
(event, feed) to the event's (id, feed), which the unique constraint
`sportsbook_event_id_feed_unique` makes a valid target. Django has no composite foreign keys, so
it is written here; embedded SQLite goes without it."""

from django.db import migrations

FORWARDS = """
ALTER TABLE sportsbook_market ADD CONSTRAINT sportsbook_market_event_of_its_feed
    FOREIGN KEY (event_id, feed_id) REFERENCES sportsbook_event (id, feed_id);
"""
BACKWARDS = "ALTER TABLE sportsbook_market DROP CONSTRAINT IF EXISTS sportsbook_market_event_of_its_feed;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS, params=None)


class Migration(migrations.Migration):
    dependencies = [("sportsbook", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
