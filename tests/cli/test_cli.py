"""The ``selorax-analytics`` command line, end to end through subprocesses against a sandbox."""

from __future__ import annotations

import csv
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import httpx
import pandas as pd
import pytest
from openpyxl import load_workbook

from selorax_analytics.cli._main import main

CUSTOMERS = 600
AS_OF = "2026-06-15"
AFTER_NOW = str(pd.Timestamp.now(tz="Asia/Dhaka").date() + pd.Timedelta(days=1))
SUBCOMMANDS = ("sandbox", "fetch", "rfm", "cohorts", "guests", "export", "report", "notebooks")
#: Names a spreadsheet would run as formulas, each with a phone in a differently noisy format.
HOSTILE = [
    ('=HYPERLINK("http://evil.example","click")', "+8801311111101", "+8801311111101"),
    ("+SUM(1,2)", "01311-111102", "+8801311111102"),
    ("-2+3 Karim", "013 1111 1103", "+8801311111103"),
    ("@cmd Rahim", "+880 1311-111104", "+8801311111104"),
    ("\tTabbed Name", "8801311111105", "+8801311111105"),
    ("\rReturned Name", "01311111106", "+8801311111106"),
]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("selorax-analytics")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "selorax_analytics.cli._main"]  # pragma: no cover


@pytest.fixture(scope="module")
def store(tmp_path_factory, sandbox_factory):
    """A sandbox of its own (hostile customers are written to it) and a shared cache."""
    from selorax_analytics.sandbox import DEMO_TOKEN, api_frames, generate_store

    server = sandbox_factory(customers=CUSTOMERS)
    url = server.base_url
    created = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as http:
        for i, (name, phone, e164) in enumerate(HOSTILE):
            body = {"name": name, "phone": phone, "email": f"hostile{i}@example.com"}
            response = http.post("/api/apps/v1/customers", json=body)
            assert response.status_code == 201, response.text
            user_id = response.json()["data"]["user_id"]
            server.add_order(user_id, 1000.0 + i, "delivered")
            created[user_id] = (name, e164)
    customers, orders = api_frames(generate_store(customers=CUSTOMERS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    env |= {
        "SELORAX_BASE_URL": url,
        "SELORAX_TOKEN": DEMO_TOKEN,
        "SELORAX_CACHE_DIR": str(tmp_path_factory.mktemp("cli-cache")),
    }
    return SimpleNamespace(
        url=url, env=env, hostile=created, customers=customers, orders=orders, server=server
    )


def run(store, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_command(), *args, "--no-progress"],
        env=env or store.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def run_here(store, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """The command line in this process (faster), with the store's environment."""
    for name, value in store.env.items():
        if name.startswith("SELORAX_"):
            monkeypatch.setenv(name, value)
    code = main([*args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- usage, without a store --------------------------------------------------------------------


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    assert f"usage: selorax-analytics {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["nope"],
        ["rfm", "--as-of", "soon"],
        ["rfm", "--json", "--csv"],
        ["export", "Champions", "--format", "tiktok"],
        ["export"],
        ["export", "Champions", "--all"],
        ["cohorts", "--period", "Y"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "error: " in err and "--help" in err


ISO_FORM = "2026-07-01T10:00:00+06:00"
#: Bad option values: the option, the value and a piece of the accepted form the line must show.
BAD_VALUES = [
    ("rfm", "--as-of", "01/07/2026", ISO_FORM),  # day first: 1 July, never 7 January
    ("rfm", "--as-of", "07/01/2026", ISO_FORM),
    ("rfm", "--as-of", "July 1 2026", ISO_FORM),
    ("rfm", "--as-of", "now", ISO_FORM),
    ("rfm", "--as-of", "", ISO_FORM),
    ("rfm", "--as-of", "2026-7-1", ISO_FORM),
    ("rfm", "--as-of", "2026-02-30", ISO_FORM),
    ("rfm", "--as-of", "20260701", ISO_FORM),
    ("cohorts", "--as-of", "2026-07-01T25:00", ISO_FORM),
    ("guests", "--as-of", "1/7/26", ISO_FORM),
    ("report", "--as-of", "tomorrow", ISO_FORM),
    ("fetch", "--since", "yesterday", ISO_FORM),
    ("fetch", "--since", "0001-01-01T00:00:00+06:00", ISO_FORM),  # year 0 in UTC
    ("export", "--region", "ZZ", "such as BD"),
    ("export", "--region", "", "such as BD"),
    ("rfm", "--store-id", "-5", "positive whole number"),
    ("rfm", "--store-id", "0", "positive whole number"),
    ("rfm", "--store-id", "22.5", "positive whole number"),
    ("rfm", "--store-id", "9" * 5000, "positive whole number"),  # past int()'s digit limit
    ("guests", "--window-days", "-5", "from 0 to 36,500"),
    ("guests", "--window-days", "ninety", "from 0 to 36,500"),
    ("guests", "--window-days", "1e3", "from 0 to 36,500"),
    ("rfm", "--out", "", "path"),
    ("cohorts", "--out", "a\0b.csv", "path"),
    ("fetch", "--cache-dir", "", "path"),
]


@pytest.mark.parametrize(("command", "option", "value", "accepted"), BAD_VALUES)
def test_bad_option_values_exit_2_in_one_line(command, option, value, accepted, capsys):
    argv = [command, f"{option}={value}"]
    if command == "export":
        argv.insert(1, "Champions")
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    assert f"argument {option}: got {value[:37]!r}"[:60] in err
    assert accepted in err


def test_day_first_date_says_how_to_write_it(capsys):
    assert main(["rfm", "--as-of", "01/07/2026"]) == 2
    assert "1 July 2026 is 2026-07-01" in capsys.readouterr().err


def test_bad_values_never_give_a_traceback_from_the_real_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    env["SELORAX_CACHE_DIR"] = str(tmp_path)
    for argv in (["rfm", "--as-of", "now"], ["guests", "--window-days", "-5"],
                 ["export", "Champions", "--region", "ZZ"]):  # fmt: skip
        done = subprocess.run([*_command(), *argv], env=env, capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1
        assert "Traceback" not in done.stderr and argv[-2] in done.stderr


# --- against the sandbox -----------------------------------------------------------------------


def test_fetch_counts_what_the_store_holds(store):
    done = run(store, "fetch", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["customers"] == len(store.customers) + len(HOSTILE)
    assert summary["orders"] == len(store.orders) + len(HOSTILE)
    assert summary["cache_dir"].startswith(store.env["SELORAX_CACHE_DIR"])
    assert Path(summary["cache_dir"]).is_dir()
    text = run(store, "fetch", "--refresh", "never")
    assert text.returncode == 0 and f"{summary['orders']:,} orders" in text.stdout


def _valid_orders_sql(store) -> tuple[int, float]:
    orders = store.orders[["user_id", "order_status", "grand_total", "created_at"]].astype(
        {"order_status": "str"}
    )
    con = duckdb.connect()
    con.register("orders", orders)
    return con.execute(
        f"""
        SELECT count(DISTINCT user_id) AS buyers, sum(grand_total) AS revenue
        FROM orders
        WHERE order_status NOT IN ('cancelled', 'returned', 'failed')
          AND CAST(timezone('Asia/Dhaka', created_at) AS DATE) <= DATE '{AS_OF}'
        """
    ).fetchone()


def test_rfm_json_agrees_with_sql(store):
    done = run(store, "rfm", "--as-of", AS_OF, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    buyers, revenue = _valid_orders_sql(store)
    assert sum(row["customers"] for row in summary) == buyers
    assert sum(row["revenue"] for row in summary) == pytest.approx(revenue, abs=0.01)
    assert {row["segment"] for row in summary} >= {"Champions", "Hibernating", "At Risk"}


def test_rfm_table_is_readable(store, monkeypatch, capsys, tmp_path):
    code, out, err = run_here(store, monkeypatch, capsys, "rfm", "--as-of", AS_OF)
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header[:3] == ["segment", "customers", "customer_share"]
    assert f"as of {AS_OF}" in out
    target = tmp_path / "rfm.csv"
    code, out, err = run_here(store, monkeypatch, capsys, "rfm", "--as-of", AS_OF, "--csv",
                              "--customers", "--out", str(target))  # fmt: skip
    assert code == 0 and out == "", err
    rows = read_rows(target)
    assert len(rows) == _valid_orders_sql(store)[0]
    assert list(rows[0])[:2] == ["user_id", "first_order_at"]
    # written whole through a temporary file and a rename, into a folder made for it
    nested = tmp_path / "reports" / "rfm.csv"
    code, _, err = run_here(store, monkeypatch, capsys, "rfm", "--as-of", AS_OF, "--csv",
                            "--customers", "--out", str(nested))  # fmt: skip
    assert code == 0, err
    assert nested.read_bytes() == target.read_bytes()
    assert sorted(p.name for p in nested.parent.iterdir()) == ["rfm.csv"]


def test_demo_store_defaults_to_its_own_as_of(store, monkeypatch, capsys):
    from selorax_analytics.sandbox import DEMO_AS_OF

    code, out, err = run_here(store, monkeypatch, capsys, "rfm")
    assert code == 0, err
    assert f"as of {DEMO_AS_OF}" in out


def test_cohorts_csv(store, monkeypatch, capsys):
    code, out, err = run_here(
        store, monkeypatch, capsys, "cohorts", "--as-of", AS_OF, "--csv", "--period", "Q"
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.splitlines()))
    buyers, _ = _valid_orders_sql(store)
    assert sum(int(r["cohort_size"]) for r in rows) == buyers
    assert all(float(r["0"]) == 1.0 for r in rows)
    assert rows[0]["cohort"] == "2024Q1"


def test_guests_json_has_its_tables(store, monkeypatch, capsys):
    code, out, err = run_here(store, monkeypatch, capsys, "guests", "--as-of", AS_OF, "--json")
    assert code == 0, err
    tables = json.loads(out)
    assert set(tables) == {"groups", "cohorts", "funnel"}
    assert tables["funnel"][0]["stage"] == "first guest order"


def _exported(folder: Path) -> dict[int, dict[str, str]]:
    rows = [r for f in sorted(folder.glob("*.csv")) for r in read_rows(f)]
    return {int(r["user_id"]): r for r in rows}


def test_export_guards_hostile_names_created_through_the_api(store, tmp_path):
    # After now: the hostile customers' orders were placed just now.
    done = run(store, "export", "--all", "--out", str(tmp_path), "--json", "--as-of", AFTER_NOW)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert sum(r["rows"] for r in results) == len(_exported(tmp_path))
    people = _exported(tmp_path)
    for user_id, (name, e164) in store.hostile.items():
        assert people[user_id]["name"] == "'" + name
        assert people[user_id]["phone"] == e164
    manifests = list(tmp_path.glob("*.manifest.json"))
    assert len(manifests) == len(results)
    assert all(json.loads(m.read_text())["as_of"] for m in manifests)


def test_export_sms_and_xlsx_of_hostile_names(store, tmp_path):
    sms = run(store, "export", "--all", "--format", "sms", "--out", str(tmp_path / "sms"),
              "--as-of", AFTER_NOW)  # fmt: skip
    assert sms.returncode == 0, sms.stderr
    rows = [r for f in (tmp_path / "sms").glob("*.sms.csv") for r in read_rows(f)]
    by_phone = {r["phone"]: r["name"] for r in rows}
    for name, e164 in store.hostile.values():
        assert by_phone[e164.removeprefix("+")] == "'" + name
    xlsx = run(store, "export", "--all", "--format", "xlsx", "--out", str(tmp_path / "x"),
               "--as-of", AFTER_NOW)  # fmt: skip
    assert xlsx.returncode == 0, xlsx.stderr
    cells = [
        cell
        for book in (tmp_path / "x").glob("*.xlsx")
        for row in load_workbook(book).active.iter_rows(min_row=2, max_col=2)
        for cell in row[1:]
    ]
    names = {cell.value for cell in cells}
    # xlsx (XML) keeps a carriage return as a line feed.
    expected = {"'" + name.replace("\r", "\n") for name, _ in store.hostile.values()}
    assert expected <= names
    assert all(cell.data_type == "s" for cell in cells)  # text, never a formula


def test_export_refuses_to_overwrite_and_names_valid_segments(store, monkeypatch, capsys, tmp_path):
    target = tmp_path / "c.csv"
    export = ("export", "Champions", "--as-of", AS_OF, "--out", str(target))
    assert run_here(store, monkeypatch, capsys, *export)[0] == 0
    before = target.read_bytes()
    code, _, err = run_here(store, monkeypatch, capsys, *export)
    assert code == 2
    assert err.startswith("error: ") and "--overwrite" in err and len(err.splitlines()) == 1
    assert repr(str(target)) in err
    assert target.read_bytes() == before
    code, _, err = run_here(
        store, monkeypatch, capsys, *export, "--overwrite", "--format", "google"
    )
    assert code == 0, err
    assert target.read_text().splitlines()[0] == "Email,Phone"
    code, _, err = run_here(
        store, monkeypatch, capsys, "export", "Champs", "--as-of", AS_OF, "--out", str(tmp_path)
    )
    assert code == 1
    age, error = err.splitlines()  # the data's age line, then the error in one line
    assert age.startswith("data from the cache, ")
    assert "'Champions'" in error and "'At Risk'" in error


def test_bad_token_is_one_line_and_never_echoed(store, monkeypatch, capsys, tmp_path):
    secret = "sx_at_distinctive0secret9f8e7d"
    env = {**store.env, "SELORAX_TOKEN": secret, "SELORAX_CACHE_DIR": str(tmp_path)}
    done = run(store, "rfm", "--refresh", "full", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
    assert secret not in done.stdout + done.stderr and "Traceback" not in done.stderr
    code, out, err = run_here(
        store, monkeypatch, capsys, "fetch", "--token", secret, "--cache-dir", str(tmp_path)
    )
    assert code == 1 and err.startswith("error: ") and len(err.splitlines()) == 1
    assert secret not in out + err


def test_offline_without_cache_is_a_clear_error(store, monkeypatch, capsys, tmp_path):
    code, out, err = run_here(
        store, monkeypatch, capsys, "rfm", "--refresh", "never", "--cache-dir", str(tmp_path / "e")
    )
    assert code == 1 and out == ""
    assert err.startswith("error: ") and len(err.splitlines()) == 1


def test_cache_dir_option(store, monkeypatch, capsys, tmp_path):
    cache = tmp_path / "elsewhere"
    code, out, err = run_here(
        store, monkeypatch, capsys, "fetch", "--cache-dir", str(cache), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["cache_dir"].startswith(str(cache))
    assert any(cache.rglob("*.parquet")), "the cache was written where --cache-dir says"


@pytest.mark.parametrize(
    "command",
    [("rfm", "--csv"), ("cohorts", "--json"), ("guests", "--csv")],
    ids=["rfm", "cohorts", "guests"],
)
def test_out_refuses_an_existing_file_and_overwrite_replaces_it(
    store, monkeypatch, capsys, tmp_path, command
):
    target = tmp_path / "table.txt"
    target.write_text("keep me", encoding="utf-8")
    argv = (*command, "--as-of", AS_OF, "--out", str(target))
    code, out, err = run_here(store, monkeypatch, capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert repr(str(target)) in err and "--overwrite" in err
    assert target.read_text(encoding="utf-8") == "keep me"
    code, out, err = run_here(store, monkeypatch, capsys, *argv, "--overwrite")
    assert code == 0 and out == "", err
    expected = run_here(store, monkeypatch, capsys, *argv[:-2])  # the same table, printed
    assert target.read_text(encoding="utf-8") == expected[1]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.txt"]


@pytest.mark.parametrize("command", ["rfm", "cohorts", "guests"])
def test_out_is_refused_before_the_store_is_asked(monkeypatch, capsys, tmp_path, command):
    # a store that cannot be reached: the refusal must come first, not a connection error
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SELORAX_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SELORAX_TOKEN", "sx_at_unreachable0000store")
    target = tmp_path / "table.txt"
    target.write_text("keep me", encoding="utf-8")
    code = main([command, "--as-of", "2026-07-01", "--out", str(target), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Refusing to overwrite" in err
    assert target.read_text(encoding="utf-8") == "keep me"


def test_out_naming_a_folder_is_refused(store, monkeypatch, capsys, tmp_path):
    code, _, err = run_here(store, monkeypatch, capsys, "rfm", "--out", str(tmp_path),
                            "--overwrite")  # fmt: skip
    assert code == 2 and "is a folder" in err and len(err.splitlines()) == 1


def test_as_of_date_time_is_the_dhaka_day(store, monkeypatch, capsys):
    # 18:00 UTC on 14 June is midnight in Dhaka: the analysis day is 15 June
    day = run_here(store, monkeypatch, capsys, "rfm", "--as-of", AS_OF, "--json")
    stamp = run_here(store, monkeypatch, capsys, "rfm", "--as-of", "2026-06-14T18:00:00Z", "--json")
    offset = run_here(store, monkeypatch, capsys, "rfm", "--as-of", f"{AS_OF}T00:00:00+06:00",
                      "--json")  # fmt: skip
    assert day[0] == stamp[0] == offset[0] == 0
    assert json.loads(day[1]) == json.loads(stamp[1]) == json.loads(offset[1])
    code, out, _ = run_here(store, monkeypatch, capsys, "rfm", "--as-of", "2026-06-14T17:59:59Z")
    assert code == 0 and "as of 2026-06-14" in out
