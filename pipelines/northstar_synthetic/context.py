"""Shared knobs and deterministic helpers for every generator module.

Why one ``rng(name)`` per table: each table draws from its own ``random.Random`` seeded with ``"<seed>:<table>"``, so
adding a column or a table never shifts the values of another table, and the same seed always yields the same bytes
(string seeds are hashed with SHA-512 by ``random``, independent of PYTHONHASHSEED).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

Row = tuple[object, ...]

COUNTRY_CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR"}
COUNTRY_TAX_BPS = {"US": 700, "CA": 1300, "GB": 2000, "DE": 1900, "FR": 2000}
CURRENCIES = ("USD", "EUR", "GBP", "CAD")


@dataclass(frozen=True)
class Config:
    """The size knob is ``orders`` (total orders over ``days`` days); every other volume derives from it."""

    seed: int = 42
    orders: int = 1000
    days: int = 7
    start: date = field(default_factory=lambda: date(2024, 1, 1))

    def __post_init__(self) -> None:
        if self.orders < 1:
            raise ValueError(f"orders must be >= 1, got {self.orders}")
        if not 1 <= self.days <= 366:
            raise ValueError(f"days must be between 1 and 366, got {self.days}")

    @property
    def n_customers(self) -> int:
        return max(100, self.orders // 3)

    @property
    def n_products(self) -> int:
        return min(20_000, 200 + self.orders // 50)

    @property
    def n_stores(self) -> int:
        return min(200, 12 + self.orders // 20_000)

    @property
    def n_warehouses(self) -> int:
        return min(40, 5 + self.orders // 200_000)

    @property
    def n_suppliers(self) -> int:
        return 15 + self.n_products // 200

    def rng(self, name: str) -> random.Random:
        """A private, reproducible random stream for one table."""
        return random.Random(f"{self.seed}:{name}")  # noqa: S311 - synthetic data, not security

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def at(self, offset_days: int, seconds: int) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day) + timedelta(days=offset_days, seconds=seconds)

    @property
    def end(self) -> datetime:
        return self.at(self.days, 0)


def money(cents: int) -> Decimal:
    """Cents -> Decimal; money is summed in integer cents so totals balance exactly."""
    return Decimal(cents) / 100


def det_uuid(rng: random.Random) -> str:
    """A UUID4-shaped id drawn from ``rng`` (uuid.uuid4 would break determinism)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def email_hash(customer_id: int) -> str:
    """What the OLTP stores instead of the e-mail address (the column is pii-tagged but never clear text)."""
    return hashlib.sha256(f"customer{customer_id}@example.com".encode()).hexdigest()
