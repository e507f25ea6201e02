"""The SQL of the sandbox's database: tables, indexes, and the triggers that keep each row's
rendered API JSON, the customers' totals and the list totals current.

Money is integer paisa; ``total_spent`` is whole taka rounded half up from the orders that count
(not cancelled, returned or failed).
"""

from __future__ import annotations

from selorax_analytics.sandbox.frames import UNSPENT_STATUSES
from selorax_analytics.sandbox.names import ORDER_COLUMNS

_UNSPENT = ", ".join(f"'{s}'" for s in UNSPENT_STATUSES)
_SPENT = f"CASE WHEN {{o}}.order_status IN ({_UNSPENT}) THEN 0 ELSE {{o}}.grand_total_paisa END"

#: ``total_spent`` in whole taka, rounded half up, from the running paisa sum.
TOTAL_SPENT_SQL = "((spent_paisa + 50) / 100)"
_MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")

#: A customer as the list endpoints show it, one JSON object in the API's field order.
CUSTOMER_JSON_SQL = (
    "json_object('user_id', user_id, 'store_id', store_id, 'name', name, 'email', email, "
    "'phone', phone, 'address_json', json(address_json), 'is_guest', is_guest, "
    "'created_at', created_at, 'updated_at', updated_at, 'total_orders', total_orders, "
    f"'total_spent', {TOTAL_SPENT_SQL})"
)


def _money_sql(column: str, as_text: bool) -> str:
    """Paisa to taka: a number (``x / 100.0``, as ``round(x / 100, 2)``) or ``"12.50"`` text."""
    paisa = f"{column}_paisa"
    if not as_text:
        return f"{paisa} / 100.0"
    sign = f"CASE WHEN {paisa} < 0 THEN '-' ELSE '' END"
    return f"printf('%s%d.%02d', {sign}, abs({paisa}) / 100, abs({paisa}) % 100)"


def order_json_sql(as_text: bool) -> str:
    """An order as the list endpoints show it; money as numbers or, ``as_text``, strings."""
    parts = (f"'{c}', {_money_sql(c, as_text) if c in _MONEY else c}" for c in ORDER_COLUMNS)
    return f"json_object({', '.join(parts)})"


def json_column(table: str, money_as_strings: bool = False) -> str:
    """The column holding each row's rendered JSON: customers, orders by money mode."""
    return "api_json_text" if table == "orders" and money_as_strings else "api_json"


_CUSTOMER_SOURCE = (
    "user_id, store_id, name, email, phone, address_json, is_guest, created_at, updated_at, "
    "total_orders, spent_paisa"
)
_ORDER_SOURCE = ", ".join(f"{c}_paisa" if c in _MONEY else c for c in ORDER_COLUMNS)
#: Rendered columns, added to databases made before they existed, then filled by ``_RENDER``.
RENDERED = {"customers": ("api_json",), "orders": ("api_json", "api_json_text")}
RENDER = {
    "customers": f"api_json = {CUSTOMER_JSON_SQL}",
    "orders": f"api_json = {order_json_sql(False)}, api_json_text = {order_json_sql(True)}",
}
# A row is rendered after every insert and after every change of a field it shows (the JSON
# columns are not among them, so rendering does not fire itself again).
RENDER_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {table}_render_{event} AFTER {event.upper()}{columns} "
    f"ON {table} BEGIN UPDATE {table} SET {RENDER[table]} WHERE {key} = NEW.{key}; END"
    for table, key, source in (
        ("customers", "user_id", _CUSTOMER_SOURCE),
        ("orders", "order_id", _ORDER_SOURCE),
    )
    for event, columns in (("insert", ""), ("update", f" OF {source}"))
)


def _moved(table: str, row: str, sign: str) -> str:
    """Statements moving ``list_totals`` by ``row`` (``NEW`` or ``OLD``) of ``table``."""
    if table == "customers":
        change = f"customers = customers {sign} 1, guests = guests {sign} ({row}.is_guest != 0)"
    else:
        change = f"orders = orders {sign} 1"
    ensure = f"INSERT OR IGNORE INTO list_totals (store_id) VALUES ({row}.store_id); "
    return f"{ensure if row == 'NEW' else ''}UPDATE list_totals SET {change} WHERE store_id = {row}.store_id;"


TOTALS_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {table}_totals_{event} AFTER {event.upper()}{columns} "
    f"ON {table} BEGIN {body} END"
    for table, flags in (("customers", ", is_guest"), ("orders", ""))
    for event, columns, body in (
        ("insert", "", _moved(table, "NEW", "+")),
        ("delete", "", _moved(table, "OLD", "-")),
        (
            "update",
            f" OF store_id{flags}",
            _moved(table, "OLD", "-") + " " + _moved(table, "NEW", "+"),
        ),
    )
)
#: The totals counted afresh, when a database is opened.
RECOUNT = (
    "DELETE FROM list_totals",
    "INSERT INTO list_totals (store_id, customers, guests) "
    "SELECT store_id, COUNT(*), SUM(is_guest != 0) FROM customers GROUP BY store_id",
    "INSERT INTO list_totals (store_id, orders) SELECT store_id, COUNT(*) FROM orders "
    "GROUP BY store_id ON CONFLICT (store_id) DO UPDATE SET orders = excluded.orders",
)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS stores (
    store_id INTEGER PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    user_id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL, name TEXT NOT NULL, email TEXT,
    phone TEXT NOT NULL, address_json TEXT, is_guest INTEGER NOT NULL DEFAULT 0,
    is_phone_verified INTEGER NOT NULL DEFAULT 0, is_email_verified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    total_orders INTEGER NOT NULL DEFAULT 0, spent_paisa INTEGER NOT NULL DEFAULT 0,
    api_json TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS customers_phone ON customers (store_id, phone);
CREATE INDEX IF NOT EXISTS customers_created ON customers (store_id, created_at, user_id);
CREATE INDEX IF NOT EXISTS customers_updated ON customers (store_id, updated_at, user_id);
CREATE INDEX IF NOT EXISTS customers_name ON customers (store_id, name, user_id);
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    order_status TEXT NOT NULL, financial_status TEXT NOT NULL, fulfillment_status TEXT NOT NULL,
    sub_total_paisa INTEGER NOT NULL, tax_paisa INTEGER NOT NULL, shipping_paisa INTEGER NOT NULL,
    discount_paisa INTEGER NOT NULL, grand_total_paisa INTEGER NOT NULL,
    payment_method TEXT NOT NULL, note TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    api_json TEXT, api_json_text TEXT
);
CREATE INDEX IF NOT EXISTS orders_created ON orders (store_id, created_at, order_id);
CREATE INDEX IF NOT EXISTS orders_updated ON orders (store_id, updated_at, order_id);
CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id, created_at, order_id);
CREATE TABLE IF NOT EXISTS order_items (
    order_item_id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER,
    variant_id INTEGER, name TEXT NOT NULL, price_paisa INTEGER NOT NULL,
    quantity INTEGER NOT NULL, sku TEXT
);
CREATE INDEX IF NOT EXISTS order_items_order ON order_items (order_id);
CREATE TABLE IF NOT EXISTS list_totals (
    store_id INTEGER PRIMARY KEY, customers INTEGER NOT NULL DEFAULT 0,
    guests INTEGER NOT NULL DEFAULT 0, orders INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS orders_insert AFTER INSERT ON orders BEGIN
    UPDATE customers SET total_orders = total_orders + 1,
        spent_paisa = spent_paisa + {_SPENT.format(o="NEW")} WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER IF NOT EXISTS orders_delete AFTER DELETE ON orders BEGIN
    UPDATE customers SET total_orders = total_orders - 1,
        spent_paisa = spent_paisa - {_SPENT.format(o="OLD")} WHERE user_id = OLD.user_id;
END;
CREATE TRIGGER IF NOT EXISTS orders_update
AFTER UPDATE OF user_id, order_status, grand_total_paisa ON orders BEGIN
    UPDATE customers SET total_orders = total_orders - 1,
        spent_paisa = spent_paisa - {_SPENT.format(o="OLD")} WHERE user_id = OLD.user_id;
    UPDATE customers SET total_orders = total_orders + 1,
        spent_paisa = spent_paisa + {_SPENT.format(o="NEW")} WHERE user_id = NEW.user_id;
END;
"""

CUSTOMER_FIELDS = (
    "user_id, store_id, name, email, phone, address_json, is_guest, is_phone_verified, "
    f"is_email_verified, created_at, updated_at, total_orders, {TOTAL_SPENT_SQL} AS total_spent"
)
ORDER_FIELDS = ", ".join(
    f"{c}_paisa AS {c}" if c in ("sub_total", "tax", "shipping", "discount", "grand_total") else c
    for c in ORDER_COLUMNS
)
