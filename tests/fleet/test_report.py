"""The fleet report page on a LocalCluster of two worker processes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from selorax_analytics.cli import main
from selorax_analytics.fleet.dataset import read_store_frame
from selorax_analytics.fleet.report import build_fleet_report
from tests.fleet._stores import AS_OF, STORES, corrupt, write_dataset

distributed = pytest.importorskip("distributed")


class _Table(HTMLParser):
    """The page's rows as lists of (text, data-sort) cells, and whether it loads anything."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str | None]]] = []
        self.external: list[str] = []
        self._cell: list[str] | None = None
        self._sort: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "link", "img") and (attrs.get("src") or attrs.get("href")):
            self.external.append(attrs.get("src") or attrs.get("href"))
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th") and self.rows:
            self._cell, self._sort = [], attrs.get("data-sort")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(("".join(self._cell).strip(), self._sort))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_page_lists_every_store_with_the_medians(tmp_path, client):
    root = write_dataset(tmp_path / "data")
    # names as fleet fetch records them; store 32's own report exists, store 31's does not
    stores = [{"store_id": s, "name": f"shop-{s}"} for s in STORES]
    (root / "fleet.json").write_text(json.dumps({"format": 1, "stores": stores}))
    (tmp_path / "out" / "stores" / "32").mkdir(parents=True)
    (tmp_path / "out" / "stores" / "32" / "index.html").write_text("store 32")

    page = build_fleet_report(root, tmp_path / "out", as_of=AS_OF, scheduler=client)
    text = page.read_text(encoding="utf-8")
    table = _Table()
    table.feed(text)
    header, median, *rows = table.rows
    assert header[:3] == [("Store", None), ("Customers", None), ("Orders", None)]
    assert [r[0][0] for r in rows] == ["shop-31 (31)", "shop-32 (32)", "shop-33 (33)"]
    assert '<a href="stores/32/index.html">shop-32' in text and "stores/31/" not in text
    assert table.external == [] and "onclick" in text

    customers = [len(read_store_frame(root, "customers", s)) for s in STORES]
    orders = [len(read_store_frame(root, "orders", s)) for s in STORES]
    assert [r[1][0] for r in rows] == [f"{n:,}" for n in customers]
    # the median of three is the middle value
    assert median[0][0] == "Fleet median"
    assert median[1][0] == f"{sorted(customers)[1]:,}" and median[2][0] == f"{sorted(orders)[1]:,}"
    assert all(re.fullmatch(r"৳ [0-9,]+", r[4][0]) for r in rows)  # revenue in taka
    assert all(re.fullmatch(r"[0-9.]+%", r[5][0]) for r in rows)  # repeat rate in percent
    assert [float(r[2][1]) for r in rows] == orders  # raw numbers for sorting

    csv = pd.read_csv(tmp_path / "out" / "fleet_summary.csv", index_col="store_id")
    assert csv.index.tolist() == list(STORES) and csv["name"].tolist() == [
        "shop-31",
        "shop-32",
        "shop-33",
    ]
    assert csv["customers"].tolist() == customers


def test_cli_reports_a_failing_store_and_refuses_an_existing_page(tmp_path, client, capsys):
    root = write_dataset(tmp_path / "data")
    corrupt(root, 33, "customers")
    out = tmp_path / "out"
    argv = ["fleet", "report", "--dataset", str(root), "--out", str(out), "--as-of", AS_OF,
            "--scheduler", client.scheduler.address]  # fmt: skip
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "3 stores as of 2026-07-01" in captured.out
    assert re.search(r"FAILED  store 33: CacheError: .*store_id=33", captured.err)
    table = _Table()
    table.feed((out / "index.html").read_text(encoding="utf-8"))
    assert len(table.rows) == 2 + len(STORES)
    assert "CacheError" in table.rows[-1][-1][0] and table.rows[-1][1][0] == ""
    # listed above the table too, so a narrow window shows it without scrolling sideways
    page = (out / "index.html").read_text(encoding="utf-8")
    listed = page[page.index("Problems (also in the last column):") : page.index("<table")]
    assert "<b>store (33)</b>: CacheError: " in listed

    assert main(argv) == 2
    assert "Refusing to overwrite" in capsys.readouterr().err
    assert main([*argv, "--with-store-reports", "--overwrite"]) == 2
    assert "needs --fleet" in capsys.readouterr().err


@pytest.fixture
def two_stores(tmp_path, monkeypatch):
    """A fleet sandbox of two stores, its fleet file, the second store's token wrong."""
    from selorax_analytics.sandbox import Sandbox

    server = Sandbox(stores=2)
    server.start()
    path = tmp_path / "fleet.toml"
    for name, token in server.write_fleet_file(path).items():
        monkeypatch.setenv(name, token)
    monkeypatch.setenv(server.fleet[1].env_name, "sx_at_notavalidtoken1234")
    monkeypatch.setenv("SELORAX_CACHE_DIR", str(tmp_path / "cache"))
    yield server, path
    server.stop()


def test_cli_loads_the_fleet_then_reports_and_a_dataset_alone_needs_no_server(
    tmp_path, client, capsys, two_stores, monkeypatch
):
    server, fleet_file = two_stores
    good, bad = server.fleet
    monkeypatch.chdir(tmp_path)  # the dataset goes to the default ./fleet-data
    argv = ["fleet", "report", "--fleet", str(fleet_file), "--out", "out", "--as-of", AS_OF,
            "--scheduler", client.scheduler.address, "--no-progress"]  # fmt: skip
    assert main(argv) == 1  # the wrong token's store failed; the other is on the page
    captured = capsys.readouterr()
    assert f"ok      {good.name}" in captured.out and "1 stores as of 2026-07-01" in captured.out
    assert re.search(
        rf"FAILED  {bad.name} \(not loaded, not on the page\): Authentication", captured.err
    )
    assert "notavalidtoken" not in captured.out + captured.err
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    table = _Table()
    table.feed(page)
    assert [r[0][0] for r in table.rows[2:]] == [f"{good.name} ({good.store_id})"]
    # the sandbox's own rows, counted in SQL
    customers = server.db.scalar(
        "SELECT COUNT(*) FROM customers WHERE store_id = ?", [good.store_id]
    )
    assert table.rows[2][1][0] == f"{customers:,}"
    assert "Not loaded, so not on the page" in page and f"<b>{bad.name}</b>" in page

    # a malformed scheduler address is refused before any store is loaded
    bad_address = ["fleet", "report", "--fleet", str(fleet_file), "--out", "bad"]
    assert main([*bad_address, "--scheduler", "nonsense:::"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "'nonsense:::' is not usable" in captured.err

    server.stop()  # from here on no request can be answered
    monkeypatch.delenv(bad.env_name)
    dataset = ["fleet", "report", "--dataset", "fleet-data", "--out", "again", "--as-of", AS_OF,
               "--scheduler", client.scheduler.address]  # fmt: skip
    assert main(dataset) == 0
    assert "1 stores as of 2026-07-01" in capsys.readouterr().out
    assert (tmp_path / "again" / "index.html").is_file()

    assert main(["fleet", "report", "--out", "x"]) == 2
    assert "give --fleet FILE" in capsys.readouterr().err
