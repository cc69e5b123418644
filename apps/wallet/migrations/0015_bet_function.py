"""The casino bet as one server-side function on PostgreSQL (apps/wallet/fast_bet.py says when the
wallet calls it and why): the lock of the player's accounts, the idempotency look-up, the checks,
the transaction with its entries, the cash account's new balance and chain head, and the outbox
row, in one statement that the client sends in autocommit, so one round trip and no BEGIN or
COMMIT of its own.

It writes exactly what the Python path writes for the same bet (services._post), and answers with
an outcome instead of raising: `ok`, `replayed`, `duplicate`, `rolled_back`, `currency_mismatch`,
`insufficient_funds`; or, for a bet it does not take, which the Python path then takes from the
start, `accounts` (the player's accounts or the house account to open) or `participants` (a
player on whom a participant of the wallet's STAKE moment acts: extensions.Quiet). Everything the database checks still applies: the
CHECKs, the deferred foreign keys, the append-only and zero-sum triggers.

The chain hash is chain.link's: the same JSON text, with compact separators, each string as
Python's `json.dumps` writes it (`wallet_json_string`: for ASCII, `to_json` escapes as it does but
for DEL, which `json.dumps` escapes too; the caller sends no other characters), and the timestamp
as `iso_utc` writes it (`wallet_iso_utc`).
"""

from django.db import migrations

ISO_UTC = r"""
CREATE OR REPLACE FUNCTION wallet_iso_utc(moment timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM moment)::bigint % 1000000 = 0 THEN ''
                ELSE '.' || lpad((extract(microseconds FROM moment)::bigint % 1000000)::text, 6, '0') END
        || 'Z'
$$;
"""

JSON_STRING = r"""
CREATE OR REPLACE FUNCTION wallet_json_string(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT replace(to_json(value)::text, chr(127), '\u007f')
$$;
"""

PLACE_BET = r"""
CREATE OR REPLACE FUNCTION wallet_place_bet(
    p_player bigint, p_currency text, p_amount bigint, p_origin text, p_external_id text, p_fingerprint text,
    p_round_id text, p_game_id text, p_now timestamptz, p_event text,
    OUT outcome text, OUT posted_id bigint, OUT event_id bigint, OUT new_balance bigint, OUT new_version bigint,
    OUT new_cash bigint, OUT wallet_currency text, OUT player_brand bigint
) LANGUAGE plpgsql AS $$
DECLARE
    account record;
    owner record;
    earlier record;
    cash_id bigint;
    bonus bigint;
    head text;
    house_id bigint;
    entries text;
BEGIN
    -- The lock every money call takes: the player's accounts, in primary-key order (locks.py).
    FOR account IN SELECT a.id, a.kind, a.balance, a.version, a.chain_hash, a.currency_id FROM wallet_account a
                    WHERE a.player_id = p_player ORDER BY a.id FOR UPDATE LOOP
        IF account.kind = 'cash' THEN
            cash_id := account.id;
            new_cash := account.balance;
            new_version := account.version;
            head := account.chain_hash;
            wallet_currency := account.currency_id;
        ELSIF account.kind = 'bonus' THEN
            bonus := account.balance;
        END IF;
    END LOOP;
    SELECT a.id INTO house_id FROM wallet_account a
     WHERE a.code = 'house' AND a.currency_id = wallet_currency AND a.player_id IS NULL;
    IF cash_id IS NULL OR bonus IS NULL OR house_id IS NULL THEN
        outcome := 'accounts';
        RETURN;
    END IF;
    new_balance := new_cash + bonus;
    IF wallet_currency <> p_currency THEN
        outcome := 'currency_mismatch';
        RETURN;
    END IF;
    -- The participants' quiet conditions (extensions.Quiet): FREE_PLAYER, NO_BONUS (NO_DETAIL is
    -- the caller's). A player on whom any would act goes to the Python path.
    SELECT p.status, p.needs_compliance_checks, p.reality_check_due_at, p.bonus_state, p.brand_id INTO owner
      FROM accounts_player p WHERE p.id = p_player;
    IF owner.status <> 'active' OR owner.needs_compliance_checks OR p_now >= owner.reality_check_due_at
       OR bonus > 0 OR owner.bonus_state = 'active' THEN
        outcome := 'participants';
        RETURN;
    END IF;
    player_brand := owner.brand_id;
    -- Idempotency, after the lock: a transaction that held it before us has committed.
    SELECT t.id, t.fingerprint, t.player_id, t.balance_after, t.wallet_version, t.currency_id INTO earlier
      FROM wallet_transaction t WHERE t.external_id = p_external_id AND t.origin = p_origin;
    IF FOUND THEN
        IF earlier.fingerprint <> p_fingerprint OR earlier.player_id <> p_player THEN
            outcome := 'duplicate';
            RETURN;
        END IF;
        outcome := 'replayed';
        posted_id := earlier.id;
        new_balance := earlier.balance_after;
        new_version := earlier.wallet_version;
        wallet_currency := earlier.currency_id;
        RETURN;
    END IF;
    PERFORM FROM wallet_transaction t
      WHERE t.reverses_external_id = p_external_id AND t.origin = p_origin AND t.reverses_external_id <> '';
    IF FOUND THEN
        outcome := 'rolled_back';
        RETURN;
    END IF;
    IF p_amount > new_balance THEN
        outcome := 'insufficient_funds';
        RETURN;
    END IF;
    -- The movement: the stake from cash (there is no bonus money) to the house.
    new_cash := new_cash - p_amount;
    new_balance := new_cash;
    new_version := new_version + 1;
    entries := CASE WHEN cash_id < house_id
        THEN format('[[%s,%s,%s,%s],[%s,%s,null,null]]', cash_id, -p_amount, new_cash, new_version, house_id, p_amount)
        ELSE format('[[%s,%s,null,null],[%s,%s,%s,%s]]', house_id, p_amount, cash_id, -p_amount, new_cash, new_version)
    END;
    head := encode(sha256(convert_to(coalesce(nullif(head, ''), repeat('0', 64)) || format(
        '[%s,"bet",%s,%s,%s,%s,%s,%s,%s,null,"","",null,%s,%s,%s,%s]', p_player, wallet_json_string(wallet_currency),
        -p_amount, wallet_json_string(p_origin), wallet_json_string(p_external_id), wallet_json_string(p_fingerprint),
        wallet_json_string(p_round_id), wallet_json_string(p_game_id), new_balance, new_version,
        wallet_json_string(wallet_iso_utc(p_now)), entries
    ), 'UTF8')), 'hex');
    INSERT INTO wallet_transaction (kind, player_id, currency_id, amount, origin, external_id, fingerprint, round_id,
        game_id, reverses_id, reverses_external_id, reason, acting_user_id, balance_after, wallet_version, chain_hash,
        created_at)
    VALUES ('bet', p_player, wallet_currency, -p_amount, p_origin, p_external_id, p_fingerprint, p_round_id,
        p_game_id, NULL, '', '', NULL, new_balance, new_version, head, p_now)
    RETURNING id INTO posted_id;
    INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, account_version)
    VALUES (posted_id, cash_id, wallet_currency, -p_amount, new_cash, new_version),
           (posted_id, house_id, wallet_currency, p_amount, NULL, NULL);
    UPDATE wallet_account SET balance = new_cash, version = new_version, chain_hash = head WHERE id = cash_id;
    -- services._event's payload, with the new transaction's id.
    INSERT INTO common_outboxevent (name, payload, created_at, attempts, last_error)
    VALUES (p_event, jsonb_build_object(
        'player_id', p_player::text, 'brand_id', owner.brand_id, 'kind', 'bet', 'amount', -p_amount,
        'version', new_version, 'balance', new_balance, 'cash', new_cash, 'bonus', 0, 'currency', wallet_currency,
        'game_id', p_game_id, 'created_at', wallet_iso_utc(p_now), 'transaction_id', posted_id::text
    ), p_now, 0, '')
    RETURNING id INTO event_id;
    outcome := 'ok';
END
$$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS wallet_place_bet(bigint, text, bigint, text, text, text, text, text, timestamptz, text);
DROP FUNCTION IF EXISTS wallet_iso_utc(timestamptz);
DROP FUNCTION IF EXISTS wallet_json_string(text);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ISO_UTC, params=None)
        schema_editor.execute(JSON_STRING, params=None)
        schema_editor.execute(PLACE_BET, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0014_resettlement"), ("accounts", "0010_kyc_documents"), ("common", "0001_outbox")]
    operations = [migrations.RunPython(forwards, backwards)]
