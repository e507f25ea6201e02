"""The fleet file: valid files read as written, every mistake refused naming the store and the key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import selorax_analytics as sa
from selorax_analytics.fleet.config import (
    CLIENT_KEYS,
    STORE_KEYS,
    Fleet,
    FleetFileError,
    FleetStore,
    parse_fleet,
    read_fleet,
)

ENV = {
    "SHOES_TOKEN": "sx_at_shoes",
    "BOOKS_ID": "sx_app_b",
    "BOOKS_SECRET": "s3",
    "BOOKS_STORE": "7",
}


def write(tmp_path, text: str):
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path, text: str, environ=ENV) -> FleetFileError:
    with pytest.raises(FleetFileError) as caught:
        read_fleet(write(tmp_path, text), environ)
    return caught.value


def test_a_file_with_both_kinds_of_credential_reads_as_written(tmp_path):
    path = write(
        tmp_path,
        """
max_in_flight = 12

[[store]]
name = "dhaka-shoes"
base_url = "https://api.selorax.io/"
token_env = "SHOES_TOKEN"
max_concurrency = 4

[[store]]
name = "ctg-books"
base_url = "http://127.0.0.1:8765"
client_id_env = "BOOKS_ID"
client_secret_env = "BOOKS_SECRET"
store_id_env = "BOOKS_STORE"
max_retries = 0
""",
    )
    fleet = sa.read_fleet(path, ENV)
    assert fleet == Fleet(
        (
            FleetStore("dhaka-shoes", "https://api.selorax.io", "SHOES_TOKEN", max_concurrency=4),
            FleetStore(
                "ctg-books",
                "http://127.0.0.1:8765",
                client_id_env="BOOKS_ID",
                client_secret_env="BOOKS_SECRET",
                store_id_env="BOOKS_STORE",
                max_retries=0,
            ),
        ),
        max_in_flight=12,
    )
    # the secrets are read from the environment only when asked, and never kept in the repr
    assert fleet.stores[0].client_options(ENV) == {
        "base_url": "https://api.selorax.io",
        "token": "sx_at_shoes",
        "max_concurrency": 4,
    }
    assert fleet.stores[1].client_options(ENV)["store_id"] == "7"
    assert "sx_at_shoes" not in repr(fleet)


STORE = 'name = "shop"\nbase_url = "https://api.selorax.io"\n'


@pytest.mark.parametrize(
    ("text", "store", "key", "words"),
    [
        (
            'colour = "red"\n[[store]]\n' + STORE + 'token_env = "SHOES_TOKEN"',
            None,
            "colour",
            "unknown key 'colour'",
        ),
        (
            "[[store]]\n" + STORE + 'token_env = "SHOES_TOKEN"\ntokn = 1',
            "shop",
            "tokn",
            "unknown key 'tokn'",
        ),
        ("[[store]]\n" + STORE, "shop", "token_env", "token_env is missing"),
        (
            "[[store]]\n" + STORE + 'token_env = "NOT_SET_ANYWHERE"',
            "shop",
            "token_env",
            "NOT_SET_ANYWHERE, which is not set",
        ),
        (
            "[[store]]\n" + STORE + 'token_env = "has space"',
            "shop",
            "token_env",
            "name of an environment variable",
        ),
        (
            "[[store]]\n" + STORE + "token_env = 5",
            "shop",
            "token_env",
            "name of an environment variable",
        ),
        (
            "[[store]]\n" + STORE + 'token_env = "SHOES_TOKEN"\nclient_id_env = "BOOKS_ID"',
            "shop",
            "client_id_env",
            "not both",
        ),
        (
            "[[store]]\n"
            + STORE
            + 'client_id_env = "BOOKS_ID"\nclient_secret_env = "BOOKS_SECRET"',
            "shop",
            "store_id_env",
            "store_id_env is missing",
        ),
        (
            "[[store]]\n"
            + STORE
            + 'client_id_env = "BOOKS_ID"\nclient_secret_env = "BOOKS_SECRET"\nstore_id_env = "SHOES_TOKEN"',
            "shop",
            "store_id_env",
            "must hold a store id",
        ),
        (
            "[[store]]\n" + STORE + 'token_env = "SHOES_TOKEN"\nmax_concurrency = 0',
            "shop",
            "max_concurrency",
            "at least 1, got 0",
        ),
        (
            "[[store]]\n" + STORE + 'token_env = "SHOES_TOKEN"\nmax_retries = true',
            "shop",
            "max_retries",
            "at least 0, got True",
        ),
        (
            "max_in_flight = -3\n[[store]]\n" + STORE + 'token_env = "SHOES_TOKEN"',
            None,
            "max_in_flight",
            "at least 1, got -3",
        ),
        (
            '[[store]]\nname = "shop"\nbase_url = "ftp://x"\ntoken_env = "SHOES_TOKEN"',
            "shop",
            "base_url",
            "http:// or https://",
        ),
        (
            '[[store]]\nbase_url = "https://x"\ntoken_env = "SHOES_TOKEN"',
            None,
            "name",
            "name must be text",
        ),
        ("max_in_flight = 3", None, "store", "no stores"),
        (
            "[[store]]\n"
            + STORE
            + 'token_env = "SHOES_TOKEN"\n[[store]]\n'
            + STORE
            + 'token_env = "SHOES_TOKEN"',
            "shop",
            "name",
            "used by two stores",
        ),
    ],
)
def test_each_mistake_is_refused_naming_the_store_and_the_key(tmp_path, text, store, key, words):
    error = refusal(tmp_path, text)
    assert (error.store, error.key) == (store, key)
    assert words in str(error)
    assert str(tmp_path / "fleet.toml") in str(error)
    if store is not None:
        assert f"store {store!r}" in str(error)
    assert isinstance(error, sa.ValidationError) and isinstance(error, sa.SeloraxError)


@pytest.mark.parametrize(
    "secret", ["sx_at_demo22fullaccess7f3a9c", "sx_secret_demo22b51e08", "SX_AT_UPPER_1234"]
)
def test_a_secret_pasted_for_a_variable_name_is_refused_without_showing_it(tmp_path, secret):
    error = refusal(tmp_path, "[[store]]\n" + STORE + f'token_env = "{secret}"')
    assert error.key == "token_env"
    assert "environment variable" in str(error) and "Never write secrets" in str(error)
    assert secret not in str(error) and secret[-6:] not in str(error)


def test_a_file_that_is_not_toml_or_missing_is_one_error(tmp_path):
    assert "not valid TOML" in str(refusal(tmp_path, "[[store]\nname = "))
    with pytest.raises(FleetFileError, match="no such fleet file"):
        read_fleet(tmp_path / "absent.toml", ENV)


# Any set of keys: the store is read exactly when it has name and base_url, and one whole kind of
# credential (token_env alone, or the three client keys), and no other key.
KEY_SETS = st.sets(st.sampled_from(sorted(STORE_KEYS | {"token", "secret", "url"})))
VALUES = {
    "name": "shop",
    "base_url": "https://api.selorax.io",
    "token_env": "SHOES_TOKEN",
    "client_id_env": "BOOKS_ID",
    "client_secret_env": "BOOKS_SECRET",
    "store_id_env": "BOOKS_STORE",
    "max_concurrency": 3,
    "max_retries": 1,
}


@settings(max_examples=150, deadline=None)
@given(keys=KEY_SETS)
def test_random_key_sets_are_read_only_when_complete(keys):
    table = {key: VALUES.get(key, "x") for key in keys}
    client = set(CLIENT_KEYS) & keys
    valid = (
        {"name", "base_url"} <= keys
        and keys <= STORE_KEYS
        and (("token_env" in keys) != bool(client))
        and client in (set(), set(CLIENT_KEYS))
    )
    if valid:
        fleet = parse_fleet({"store": [table]}, "f.toml", ENV)
        assert fleet.stores[0].name == "shop"
    else:
        with pytest.raises(FleetFileError) as caught:
            parse_fleet({"store": [table]}, "f.toml", ENV)
        # checked in this order: the name, unknown keys, the base URL, then the credential
        unknown = sorted(keys - STORE_KEYS)
        if "name" not in keys:
            expected = {"name"}
        elif unknown:
            expected = {unknown[0]}
        elif "base_url" not in keys:
            expected = {"base_url"}
        else:
            expected = {"token_env", *CLIENT_KEYS}
        assert caught.value.key in expected
        assert caught.value.key in str(caught.value)
