"""Order-to-cash facts: orders, order lines, payments, returns, refunds, shipments, loyalty points, gift cards.

Integrity by construction: a payment's amount is exactly its order's total (sum over lines of quantity x unit price
- discount + tax, in cents), a refund never exceeds the payment it refunds and matches a return's line, and every
foreign key is drawn from rows generated before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from northstar_synthetic.context import COUNTRY_CURRENCY, COUNTRY_TAX_BPS, Config, Row, money
from northstar_synthetic.reference import store_country

STATUSES = (("completed", 80), ("shipped", 8), ("cancelled", 5), ("returned", 4), ("pending", 3))
CHANNELS = (("store", 45), ("web", 35), ("app", 20))
CARRIERS = ("UPS", "DHL", "FedEx", "Royal Mail", "Canada Post")
RETURN_REASONS = ("damaged", "wrong_size", "not_as_described", "changed_mind")


@dataclass
class OrderFact:
    """What later tables (events, finance) need to know about an order without re-parsing rows."""

    order_id: int
    customer_id: int
    store_id: int
    channel: str
    status: str
    currency: str
    day: int
    ordered_at_s: int
    lines: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)  # line_id, product, qty, price, disc, tax

    @property
    def net_cents(self) -> int:
        return sum(q * p - d for _, _, q, p, d, _ in self.lines)

    @property
    def tax_cents(self) -> int:
        return sum(t for *_, t in self.lines)

    @property
    def total_cents(self) -> int:
        return self.net_cents + self.tax_cents


@dataclass
class Sales:
    orders: list[OrderFact]
    tables: dict[str, list[Row]]
    refunds_by_order: dict[int, int]  # order_id -> refunded cents
    payment_of_order: dict[int, int]  # order_id -> payment_id


def _expand(pairs: tuple[tuple[str, int], ...]) -> list[str]:
    return [value for value, weight in pairs for _ in range(weight)]


def generate(cfg: Config, products: list[Row]) -> Sales:
    rng = cfg.rng("orders")
    statuses, channels = _expand(STATUSES), _expand(CHANNELS)
    prices = [int(Decimal(str(p[7])) * 100) for p in products]
    facts: list[OrderFact] = []
    line_id = 0
    for oid in range(1, cfg.orders + 1):
        day = (oid - 1) * cfg.days // cfg.orders
        channel = rng.choice(channels)
        store = rng.randint(2, cfg.n_stores) if channel == "store" else 1
        country = store_country(store)
        fact = OrderFact(oid, rng.randint(1, cfg.n_customers), store, channel, rng.choice(statuses),
                         COUNTRY_CURRENCY[country], day, rng.randint(7 * 3600, 22 * 3600))
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            line_id += 1
            product = rng.randint(1, len(products))
            qty, price = rng.choice((1, 1, 1, 2, 3)), prices[product - 1]
            discount = qty * price // 10 if rng.random() < 0.2 else 0
            tax = (qty * price - discount) * COUNTRY_TAX_BPS[country] // 10_000
            fact.lines.append((line_id, product, qty, price, discount, tax))
        facts.append(fact)
    return _derive(cfg, facts)


def _derive(cfg: Config, facts: list[OrderFact]) -> Sales:
    rng = cfg.rng("order_derived")
    t: dict[str, list[Row]] = {k: [] for k in ("orders", "order_lines", "payments", "refunds", "returns", "shipments",
                                              "loyalty_transactions")}
    refunds: dict[int, int] = {}
    payment_of: dict[int, int] = {}
    for f in facts:
        ordered = cfg.at(f.day, f.ordered_at_s)
        updated = ordered + timedelta(hours=rng.randint(0, 48)) if f.status != "pending" else ordered
        t["orders"].append((f.order_id, f.customer_id, f.store_id, f.channel, f.status, f.currency, ordered, updated))
        t["order_lines"].extend((lid, f.order_id, pid, q, money(p), money(d), money(tx)) for lid, pid, q, p, d, tx in f.lines)
        if f.status == "cancelled":
            continue
        pid_ = len(t["payments"]) + 1
        payment_of[f.order_id] = pid_
        method = rng.choice(("card", "card", "cash", "gift_card")) if f.channel == "store" else rng.choice(("card", "card", "paypal"))
        status = "authorized" if f.status == "pending" else "captured"
        t["payments"].append((pid_, f.order_id, method, money(f.total_cents), f.currency, status,
                              ordered + timedelta(seconds=rng.randint(5, 300))))
        if f.status == "returned":
            lid, _, qty, price, disc, tax = f.lines[0]
            returned_at = updated
            t["returns"].append((len(t["returns"]) + 1, f.order_id, lid, qty, rng.choice(RETURN_REASONS), returned_at))
            amount = qty * price - disc + tax
            refunds[f.order_id] = amount
            t["refunds"].append((len(t["refunds"]) + 1, pid_, f.order_id, money(amount), "return",
                                 returned_at + timedelta(hours=rng.randint(1, 24))))
        if f.channel != "store" and f.status != "pending":
            shipped = ordered + timedelta(hours=rng.randint(4, 30))
            delivered = None if f.status == "shipped" else shipped + timedelta(days=rng.randint(1, 4))
            t["shipments"].append((len(t["shipments"]) + 1, f.order_id, rng.randint(1, cfg.n_warehouses), rng.choice(CARRIERS),
                                   money(rng.choice((0, 499, 699, 999))), shipped, delivered))
        if f.status == "completed":
            t["loyalty_transactions"].append((len(t["loyalty_transactions"]) + 1, f.customer_id, f.order_id,
                                              f.total_cents // 100, "earn", updated))
    return Sales(facts, t, refunds, payment_of)


def gift_cards(cfg: Config) -> list[Row]:
    rng = cfg.rng("gift_cards")
    rows: list[Row] = []
    for gid in range(1, cfg.n_customers // 20 + 2):
        issued_cents = rng.choice((2500, 5000, 10_000))
        issued = cfg.at(-rng.randint(0, 300), rng.randint(0, 86_399))
        rows.append((gid, rng.randint(1, cfg.n_customers), money(issued_cents), money(rng.randint(0, issued_cents)), issued,
                     issued + timedelta(days=730)))
    return rows
