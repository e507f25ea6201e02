"""``connect()``, the demo-store flag and the walls around the sandbox."""

from __future__ import annotations

import ast
import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import selorax_analytics as sa
from selorax_analytics import connection
from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import CacheError
from selorax_analytics.loading._store import EMBEDDED_DEMO_FOLDER, host_dir
from selorax_analytics.sandbox import fingerprint
from selorax_analytics.sandbox.fingerprint import demo_data_fingerprint

PACKAGE = Path(sa.__file__).parent
#: The demo store's own last day, as docs/notebooks.md states it.
DEMO_DAY = "2026-07-01"
#: The demo store's credentials, as ``selorax-analytics sandbox`` prints them (docs/sandbox.md).
DEMO_TOKEN = "sx_at_demo22fullaccess7f3a9c"
DEMO_CLIENT_ID = "sx_app_demo22"


@pytest.fixture
def no_settings(monkeypatch):
    for name in ("TOKEN", "CLIENT_ID", "CLIENT_SECRET", "STORE_ID", "BASE_URL"):
        monkeypatch.delenv(f"SELORAX_{name}", raising=False)


def test_sa_connect_is_the_connection_module_s(no_settings):
    assert sa.connect is connection.connect


def test_the_embedded_demo_store_is_flagged_and_keeps_its_cache_folder_name(no_settings, tmp_path):
    client = sa.connect(timeout=5.0)
    same_url = Client(client.base_url, token=DEMO_TOKEN)
    try:
        assert client.embedded_demo is True
        # one folder whatever port the sandbox listens on, not the host the client talks to;
        # named by the demo data's fingerprint
        folder = host_dir(client, tmp_path)
        assert folder == tmp_path / f"{EMBEDDED_DEMO_FOLDER}-{demo_data_fingerprint()}"
        assert folder == host_dir(connection.demo_cache_client(), tmp_path)
        assert client.base_url.rsplit(":", 1)[-1] not in folder.name
        assert host_dir(same_url, tmp_path) != folder
        assert connection.is_demo_store(client)
        assert connection.default_as_of(client) == DEMO_DAY
        assert client.get_store()["store_id"] == 22
    finally:
        same_url.close()
        client.close()


def test_a_configured_client_is_not_the_embedded_demo(monkeypatch):
    monkeypatch.setenv("SELORAX_TOKEN", "sx_at_someone_else_0001")
    monkeypatch.setenv("SELORAX_BASE_URL", "http://127.0.0.1:9")
    client = sa.connect()
    try:
        assert client.embedded_demo is False
        assert not connection.is_demo_store(client)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("credentials", "demo"),
    [
        ({"token": DEMO_TOKEN}, True),
        ({"client_id": DEMO_CLIENT_ID, "client_secret": "anything", "store_id": 22}, True),
        ({"token": "sx_at_real_store_token_1"}, False),
        ({"client_id": "sx_app_real", "client_secret": "s", "store_id": 7}, False),
    ],
)
def test_a_sandbox_reached_with_the_demo_credentials_is_the_demo_store(credentials, demo):
    client = Client("http://127.0.0.1:9", **credentials)
    try:
        assert client.embedded_demo is False
        assert connection.is_demo_store(client) is demo
    finally:
        client.close()


def test_a_real_store_defaults_to_today_in_dhaka():
    client = Client("http://127.0.0.1:9", token="sx_at_real_store_token_1")
    try:
        before = dt.datetime.now(ZoneInfo("Asia/Dhaka")).date().isoformat()
        day = connection.default_as_of(client)
        after = dt.datetime.now(ZoneInfo("Asia/Dhaka")).date().isoformat()
    finally:
        client.close()
    assert day in (before, after)


def test_demo_environment_points_a_kernel_at_a_fresh_demo_store():
    import httpx

    with connection.demo_environment() as env:
        assert set(env) == {"SELORAX_BASE_URL", "SELORAX_TOKEN", "SELORAX_CACHE_DIR"}
        assert Path(env["SELORAX_CACHE_DIR"]).is_dir()
        answer = httpx.get(
            env["SELORAX_BASE_URL"] + "/api/apps/v1/store",
            headers={"Authorization": f"Bearer {env['SELORAX_TOKEN']}"},
            timeout=30,
        )
        assert answer.json()["data"]["store_id"] == 22
    assert not Path(env["SELORAX_CACHE_DIR"]).exists()


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(
    ("part", "forbidden"),
    [
        ("api", ("selorax_analytics.sandbox", "selorax_analytics.connection")),
        ("report", ("selorax_analytics.sandbox",)),
    ],
)
def test_only_connection_and_cli_start_a_sandbox(part, forbidden):
    """``api/`` and ``report/`` never import the sandbox (``api/`` not even via connection)."""
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _imported_modules(path) if name.startswith(forbidden)
        )
        for path in sorted((PACKAGE / part).rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert offenders  # the part's modules were read


def _next_release(tmp_path: Path) -> Path:
    """A copy of the demo store's sources with one line added: another release's demo data."""
    folder = tmp_path / "sandbox-next"
    shutil.copytree(fingerprint.DEMO_SOURCES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    generator = folder / "generator.py"
    generator.write_bytes(generator.read_bytes() + b"\nCOD_REFUSAL_RATE = 0.05\n")
    return folder


def test_the_demo_data_fingerprint_follows_the_sources(tmp_path, monkeypatch):
    here = demo_data_fingerprint()
    assert len(here) == 12 and int(here, 16) >= 0
    assert demo_data_fingerprint() == here
    copy = tmp_path / "sandbox-copy"
    shutil.copytree(fingerprint.DEMO_SOURCES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "notes.txt").write_text("not a source")
    monkeypatch.setattr(fingerprint, "DEMO_SOURCES", copy)
    assert demo_data_fingerprint() == here  # same sources, same data
    monkeypatch.setattr(fingerprint, "DEMO_SOURCES", _next_release(tmp_path))
    assert demo_data_fingerprint() != here


def test_demo_data_of_two_releases_never_share_cached_frames(
    sandbox_factory, tmp_path, monkeypatch
):
    from selorax_analytics.sandbox import DEMO_STORE_ID

    server = sandbox_factory(customers=120)
    cache = tmp_path / "cache"

    def demo_client() -> Client:
        client = Client(server.base_url, token=DEMO_TOKEN, store_id=DEMO_STORE_ID)
        return connection.mark_embedded_demo(client)

    with demo_client() as first:
        loaded = sa.load_orders(first, cache=cache, progress=False)
        cached = sa.load_orders(first, cache=cache, refresh="never", progress=False)
    assert cached.attrs["selorax"]["source"] == "cache"  # the same release reads its cache
    assert len(cached) == len(loaded) > 0
    monkeypatch.setattr(fingerprint, "DEMO_SOURCES", _next_release(tmp_path))
    server.reset_counts()
    with demo_client() as second:
        assert second.demo_data != first.demo_data
        with pytest.raises(CacheError, match="refresh='never'"):
            sa.load_orders(second, cache=cache, refresh="never", progress=False)
        fresh = sa.load_orders(second, cache=cache, progress=False)
    assert fresh.attrs["selorax"]["source"] == "api"
    assert any("orders" in endpoint for endpoint, _ in server.request_counts())
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f"{EMBEDDED_DEMO_FOLDER}-{c.demo_data}" for c in (first, second)
    )
