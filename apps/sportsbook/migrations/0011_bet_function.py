"""A free player's pre-match slip as one server-side function on PostgreSQL (intake.statement_of
says when the service uses it and why): the wallet's bet function for the stake, then the bet, its
legs and the exposure, in one statement that the client sends in autocommit: one round trip, no
BEGIN or COMMIT of its own.

It writes what the Python path writes for the same slip (intake.take_bet after the wallet's
movement), and takes only the slip that path would take as it is: one whose legs are still as the
service read them, whose exposure rows exist, within every cap, and that takes no market's
liability throttle over its limit. For any other it raises SQLSTATE `PP001` (nothing stays: the
statement is its own transaction), and the wallet places the slip again on the way that judges
every case in Python (apps/wallet/fast_bet.py). The wallet function's own outcomes other than `ok`
come back as they are, with nothing of the bet written.

The caps are checked as `take_bet` checks them: a stake is within a row's cap exactly when its
liability is at most the row's headroom (the largest stake `_largest_stake_within` allows is the
last whose liability fits). The throttle's window moves as throttle.take moves it, in exact
arithmetic scaled by the window's length.
"""

from django.db import migrations

PLACE_BET = r"""
CREATE OR REPLACE FUNCTION sportsbook_place_bet(
    p_player bigint, p_currency text, p_amount bigint, p_origin text, p_external_id text, p_fingerprint text,
    p_round_id text, p_game_id text, p_now timestamptz, p_event text,
    p_public_id text, p_placed_at timestamptz, p_payout bigint, p_accept text, p_key text, p_request_fingerprint text,
    p_legs bigint[], p_prices numeric[], p_states text[],
    p_scopes text[], p_targets bigint[], p_selection_limit bigint, p_market_limit bigint, p_event_limit bigint,
    p_platform_limit bigint, p_windows boolean, p_length bigint, p_throttle_limit bigint, p_cap_share numeric,
    OUT outcome text, OUT posted_id bigint, OUT event_id bigint, OUT new_balance bigint, OUT new_version bigint,
    OUT new_cash bigint, OUT wallet_currency text, OUT player_brand bigint, OUT bet_id bigint
) LANGUAGE plpgsql AS $$
DECLARE
    liability bigint := p_payout - p_amount;
    ids bigint[] := '{}';
    row_id bigint;
    x record;
    elapsed bigint;
    started timestamptz;
    taken bigint;
    previous bigint;
    throttle bigint;
    growth numeric;
BEGIN
    SELECT * INTO outcome, posted_id, event_id, new_balance, new_version, new_cash, wallet_currency, player_brand
      FROM wallet_place_bet(p_player, p_currency, p_amount, p_origin, p_external_id, p_fingerprint, p_round_id,
                            p_game_id, p_now, p_event);
    IF outcome <> 'ok' THEN
        RETURN;
    END IF;
    INSERT INTO sportsbook_bet (public_id, player_id, currency_id, stake, potential_payout, status, reject_reason,
                                accept_price_changes, idempotency_key, request_fingerprint, stake_transaction_id,
                                placed_at, release_at)
    VALUES (p_public_id, p_player, p_currency, p_amount, p_payout, 'accepted', '', p_accept, p_key,
            p_request_fingerprint, posted_id, p_placed_at, NULL)
    RETURNING id INTO bet_id;
    -- Each leg written only if its selection, market and event are as the service read them. A
    -- leg is seven numbers of p_legs (its selection, market and event, the market version the
    -- player saw, then the market's version, suspended version and the event's in-play delay as
    -- read), two prices of p_prices (its selection's as read, the player's) and two states of
    -- p_states (its market's and event's as read): three arrays, where one per column cost the
    -- client more to send than the rest of the call's arguments.
    FOR i IN 0 .. cardinality(p_states) / 2 - 1 LOOP
        INSERT INTO sportsbook_betleg (bet_id, position, selection_id, market_id, event_id, price, seen_price,
                                       market_version)
        SELECT bet_id, i, s.id, m.id, e.id, s.price, p_prices[2 * i + 2], p_legs[7 * i + 4]
          FROM sportsbook_selection s JOIN sportsbook_market m ON m.id = s.market_id
          JOIN sportsbook_event e ON e.id = m.event_id
         WHERE s.id = p_legs[7 * i + 1] AND m.id = p_legs[7 * i + 2] AND e.id = p_legs[7 * i + 3]
           AND s.price = p_prices[2 * i + 1] AND m.status = p_states[2 * i + 1] AND m.version = p_legs[7 * i + 5]
           AND m.suspended_version = p_legs[7 * i + 6] AND e.status = p_states[2 * i + 2]
           AND e.in_play_delay_s = p_legs[7 * i + 7];
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'sportsbook_place_bet: a leg moved';
        END IF;
    END LOOP;
    -- Last, so that the exposure rows (the platform's is every bet's) are held from here to the
    -- commit; each looked up by its unique key, then all locked in primary-key order.
    FOR i IN 1 .. cardinality(p_scopes) LOOP
        SELECT e.id INTO row_id FROM sportsbook_exposure e
         WHERE e.scope = p_scopes[i] AND e.target_id = p_targets[i] AND e.currency_id = p_currency;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'sportsbook_place_bet: an exposure row to open';
        END IF;
        ids := ids || row_id;
    END LOOP;
    FOR x IN SELECT e.id, e.scope, e.amount, e.cap, e.window_started_at, e.window_amount, e.previous_window_amount
               FROM sportsbook_exposure e WHERE e.id = ANY (ids) ORDER BY e.id FOR UPDATE LOOP
        IF liability > coalesce(x.cap, CASE x.scope WHEN 'selection' THEN p_selection_limit
                                                    WHEN 'market' THEN p_market_limit
                                                    WHEN 'event' THEN p_event_limit
                                                    ELSE p_platform_limit END) - x.amount THEN
            RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'sportsbook_place_bet: over a cap';
        END IF;
        IF x.scope = 'market' AND p_windows THEN
            -- throttle.advance, then throttle.take.
            started := x.window_started_at;
            taken := x.window_amount;
            previous := x.previous_window_amount;
            elapsed := floor(EXTRACT(EPOCH FROM (p_placed_at - started)) * 1000000)::bigint;
            IF started IS NULL OR elapsed >= 2 * p_length THEN
                started := p_placed_at;
                taken := 0;
                previous := 0;
            ELSIF elapsed >= p_length THEN
                started := started + p_length * interval '1 microsecond';
                previous := taken;
                taken := 0;
            END IF;
            elapsed := least(greatest(floor(EXTRACT(EPOCH FROM (p_placed_at - started)) * 1000000)::bigint, 0), p_length);
            throttle := least(p_throttle_limit, floor(p_cap_share * coalesce(x.cap, p_market_limit))::bigint);
            -- The growth within the window, times its length (throttle.growth), before the bet.
            growth := taken::numeric * p_length + previous::numeric * (p_length - elapsed);
            IF throttle IS NOT NULL AND growth <= throttle::numeric * p_length
               AND throttle::numeric * p_length < growth + liability::numeric * p_length THEN
                RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'sportsbook_place_bet: a throttle crossed';
            END IF;
            UPDATE sportsbook_exposure SET amount = amount + liability, window_started_at = started,
                   window_amount = taken + liability, previous_window_amount = previous
             WHERE id = x.id;
        ELSE
            UPDATE sportsbook_exposure SET amount = amount + liability WHERE id = x.id;
        END IF;
    END LOOP;
END
$$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS sportsbook_place_bet(
    bigint, text, bigint, text, text, text, text, text, timestamptz, text, text, timestamptz, bigint, text, text, text,
    bigint[], numeric[], text[], text[], bigint[], bigint, bigint, bigint, bigint, boolean, bigint, bigint, numeric
);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLACE_BET, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("sportsbook", "0010_exposure_currency_unindexed"), ("wallet", "0016_json_string_inlined")]
    operations = [migrations.RunPython(forwards, backwards)]
