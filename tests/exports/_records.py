"""Customer records as the Customers API returns them, for hand-built stores in export tests."""

from __future__ import annotations

from typing import Any


def customer_record(
    user_id: int,
    name: str,
    phone: str | None,
    email: str | None = None,
    *,
    city: str | None = "Dhaka",
    guest: int = 0,
    updated: str = "2026-01-01",
) -> dict[str, Any]:
    """One customer of store 22; ``city=None`` leaves the record without an address."""
    address = None if city is None else {"address": "House 1", "city": city, "area": "Gulshan"}
    return {
        "user_id": user_id,
        "store_id": 22,
        "name": name,
        "email": email,
        "phone": phone,
        "address_json": address,
        "is_guest": guest,
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": f"{updated}T00:00:00Z",
        "total_orders": 1,
        "total_spent": 100,
    }
