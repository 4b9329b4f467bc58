"""HTTP API route keys: parsing refuses what API Gateway refuses, and the most specific route takes
a request (literal before variable, variable before greedy, a method before ANY, $default last)."""

import pytest

from editor.services.route_keys import parse_route_key, select

ROUTES = ["GET /items/{id}", "GET /items/special", "ANY /items/{id}", "ANY /{proxy+}", "POST /items", "$default",
          "GET /items/{id}/parts/{part+}"]


def pick(method, path, keys=ROUTES):
    found = select([(parse_route_key(k), k) for k in keys], method, path)
    return found if found is None else (found[0], found[1])


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/items/special", ("GET /items/special", {})),
    ("GET", "/items/42", ("GET /items/{id}", {"id": "42"})),
    ("PUT", "/items/42", ("ANY /items/{id}", {"id": "42"})),
    ("POST", "/items", ("POST /items", {})),
    ("GET", "/items", ("ANY /{proxy+}", {"proxy": "items"})),
    ("GET", "/items/7/parts/a/b", ("GET /items/{id}/parts/{part+}", {"id": "7", "part": "a/b"})),
    ("GET", "/items/caf%C3%A9", ("GET /items/{id}", {"id": "café"})),
    ("DELETE", "/", ("$default", {})),
])
def test_the_most_specific_route_takes_the_request(method, path, expected):
    assert pick(method, path) == expected


def test_without_a_default_route_an_unmatched_request_finds_none():
    assert pick("GET", "/nothing", ["GET /items/{id}"]) is None
    assert pick("GET", "/items", ["GET /items/{id}"]) is None
    assert pick("GET", "/items/1/2", ["GET /items/{id}"]) is None


@pytest.mark.parametrize("key", ["", "GET", "FETCH /x", "GET x", "GET /{a+}/b", "GET /{a b}", "GET /x{y}"])
def test_bad_route_keys_are_refused_saying_why(key):
    with pytest.raises(ValueError):
        parse_route_key(key)
