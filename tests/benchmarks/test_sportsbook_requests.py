"""The sportsbook benchmark's requests (bench/sportsbook.py): the singles its loads send. No
timing is asserted; the benchmark prints it."""

import json

from bench import sportsbook

LEGS = [{"selection_id": f"s{n}", "price": "2.10", "market_version": 1} for n in range(5)]


def _body(request) -> dict:
    method, path, headers, body = request
    assert (method, path) == ("POST", "/api/player/v1/sportsbook/bets")
    assert headers["Authorization"] in ("Bearer t1", "Bearer t2")
    return json.loads(body)


def test_the_warm_up_bets_once_on_every_leg_in_turn():
    make = sportsbook.sportsbook_requests(["t1", "t2"], LEGS, every_leg=True)

    chosen = [_body(make(n))["legs"][0]["selection_id"] for n in range(len(LEGS))]

    assert chosen == [leg["selection_id"] for leg in LEGS]


def test_each_request_is_a_single_of_the_stake_with_a_key_of_its_own():
    make = sportsbook.sportsbook_requests(["t1", "t2"], LEGS)

    requests = [make(0) for _ in range(50)]
    bodies = [_body(request) for request in requests]

    assert {body["stake"] for body in bodies} == {sportsbook.STAKE}
    assert all(len(body["legs"]) == 1 and body["legs"][0] in LEGS for body in bodies)
    assert len({request[2]["Idempotency-Key"] for request in requests}) == 50
