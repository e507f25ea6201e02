"""The demo store's line items and order amounts, in integer paisa.

Amounts are whole paisa, so ``grand_total = sub_total + tax + shipping - discount`` holds
exactly and an order's line items sum to its ``sub_total``. Drawn from the generator's one
``numpy.random.Generator`` after the orders' lifecycle (:mod:`~selorax_analytics.sandbox.generator`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selorax_analytics.sandbox.names import ITEM_COLUMNS, ORDER_COLUMNS, PRODUCTS

#: The order columns that hold money; the generated store keeps them as ``<name>_paisa``.
MONEY_COLUMNS = ("sub_total", "tax", "shipping", "discount", "grand_total")
#: Shipping in paisa: inside Dhaka, else outside.
SHIPPING_PAISA = (6000, 12000)


def order_columns_paisa() -> list[str]:
    """The API's order fields, in order, with the money fields as ``<name>_paisa``."""
    return [f"{c}_paisa" if c in MONEY_COLUMNS else c for c in ORDER_COLUMNS]


def draw_money(
    rng: np.random.Generator, n: int, first_order_id: int, with_items: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Line items of ``n`` orders (1 to 6 each) and the orders' amounts, both in paisa.

    Returns the items (an empty frame with the item columns when ``with_items`` is false; the
    draws are the same either way) and one row of amounts per order, in order.
    """
    n_items = rng.integers(1, 7, size=n)
    n_items = np.where(rng.uniform(size=n) < 0.55, 1, n_items)
    order_of = np.repeat(np.arange(n), n_items)
    product = rng.integers(0, len(PRODUCTS), size=len(order_of))
    base = np.array([p for _, p in PRODUCTS])[product]
    price = (base * rng.uniform(0.85, 1.15, size=len(order_of))).round().astype("int64")
    quantity = np.where(rng.uniform(size=len(order_of)) < 0.8, 1, rng.integers(2, 4, len(order_of)))
    sub_total = np.bincount(order_of, weights=price * quantity, minlength=n).astype("int64")
    tax = np.where(rng.uniform(size=n) < 0.1, (sub_total * 0.05).round(), 0).astype("int64")
    inside, outside = SHIPPING_PAISA
    shipping = np.where(rng.uniform(size=n) < 0.55, inside, outside).astype("int64")
    discount_rate = np.where(rng.uniform(size=n) < 0.2, rng.uniform(0.05, 0.15, size=n), 0.0)
    discount = (sub_total * discount_rate).round().astype("int64")
    money = pd.DataFrame(
        {
            "sub_total_paisa": sub_total,
            "tax_paisa": tax,
            "shipping_paisa": shipping,
            "discount_paisa": discount,
            "grand_total_paisa": sub_total + tax + shipping - discount,
        }
    )
    if not with_items:
        return pd.DataFrame(columns=[*ITEM_COLUMNS[:5], "price_paisa", *ITEM_COLUMNS[6:]]), money
    return _items(rng, order_of, product, price, quantity, first_order_id), money


def _items(
    rng: np.random.Generator,
    order_of: np.ndarray,
    product: np.ndarray,
    price: np.ndarray,
    quantity: np.ndarray,
    first_order_id: int,
) -> pd.DataFrame:
    """One row per line item: its order, product, variant, name, price, quantity and SKU."""
    names = np.array([name for name, _ in PRODUCTS], dtype=object)[product]
    variant = rng.integers(0, 3, size=len(order_of))
    return pd.DataFrame(
        {
            "order_item_id": np.arange(1, len(order_of) + 1),
            "order_id": order_of + first_order_id,
            "product_id": product + 101,
            "variant_id": (product + 101) * 10 + variant,
            "name": names,
            "price_paisa": price,
            "quantity": quantity,
            "sku": pd.Series(product + 101).astype(str).radd("SX-").to_numpy()
            + pd.Series(variant).astype(str).radd("-V").to_numpy(),
        }
    )
