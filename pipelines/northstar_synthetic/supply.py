"""Supply chain: daily inventory snapshots, purchase orders and their lines, supplier invoices, and the suppliers'
S3 drops (catalogue and advance shipping notices) that refer to the same POs and products.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from northstar_synthetic.context import Config, Row, money

PO_STATUSES = ("received", "received", "received", "open", "cancelled")


@dataclass
class Supply:
    tables: dict[str, list[Row]]
    po_cost_cents: dict[int, int]  # po_id -> invoiced cents (received POs only)


def inventory_snapshots(cfg: Config) -> list[Row]:
    rng = cfg.rng("inventory_snapshots")
    rows: list[Row] = []
    for d in range(cfg.days):
        snap = cfg.day(d)
        for wid in range(1, cfg.n_warehouses + 1):
            for pid in range(1, cfg.n_products + 1):
                on_hand = rng.randint(0, 500)
                rows.append((snap, wid, pid, on_hand, rng.randint(0, on_hand // 4)))
    return rows


def generate(cfg: Config, products: list[Row], suppliers: list[Row]) -> Supply:
    rng = cfg.rng("purchase_orders")
    by_supplier: dict[int, list[tuple[int, int]]] = {}
    for p in products:
        by_supplier.setdefault(int(str(p[5])), []).append((int(str(p[0])), int(Decimal(str(p[6])) * 100)))
    terms = {int(str(s[0])): int(str(s[3])) for s in suppliers}
    t: dict[str, list[Row]] = {k: [] for k in ("purchase_orders", "purchase_order_lines", "supplier_invoices",
                                              "advance_shipping_notices", "supplier_catalog")}
    cost: dict[int, int] = {}
    for d in range(cfg.days):
        for wid in range(1, cfg.n_warehouses + 1):
            for _ in range(2):
                supplier = rng.choice(sorted(by_supplier))
                po_id = len(t["purchase_orders"]) + 1
                ordered = cfg.at(d, rng.randint(8 * 3600, 18 * 3600))
                expected = ordered + timedelta(days=rng.randint(3, 14))
                status = rng.choice(PO_STATUSES)
                t["purchase_orders"].append((po_id, supplier, wid, status, "USD", ordered, expected))
                total = 0
                for product, unit_cost in rng.sample(by_supplier[supplier], min(len(by_supplier[supplier]), rng.randint(2, 6))):
                    qty = rng.choice((12, 24, 48, 96, 144))
                    line_id = len(t["purchase_order_lines"]) + 1
                    t["purchase_order_lines"].append((line_id, po_id, product, qty, money(unit_cost)))
                    total += qty * unit_cost
                    if status != "cancelled":
                        t["advance_shipping_notices"].append((f"ASN-{po_id:08d}-{line_id:09d}", supplier, po_id, wid, product,
                                                              qty, expected))
                if status == "received":
                    cost[po_id] = total
                    inv_date = (ordered + timedelta(days=rng.randint(1, 5))).date()
                    t["supplier_invoices"].append((len(t["supplier_invoices"]) + 1, supplier, po_id, inv_date,
                                                   inv_date + timedelta(days=terms[supplier]), money(total), "USD",
                                                   rng.choice(("approved", "paid", "received"))))
    for supplier in sorted(by_supplier):
        for product, unit_cost in by_supplier[supplier]:
            t["supplier_catalog"].append((supplier, f"S{supplier:03d}-{product:07d}", product, rng.choice((1, 6, 12, 24)),
                                          money(unit_cost), "USD", cfg.start))
    return Supply(t, cost)
