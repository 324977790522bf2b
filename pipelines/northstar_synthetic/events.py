"""Kafka event streams and the marketing/footfall S3 feeds, derived from the same orders so streams and OLTP agree:
an order's events carry its total, POS transactions are the store orders' lines, inventory movements are the
shipments' picks and the received POs' receipts, and checkout clicks belong to real web/app orders.
"""

from __future__ import annotations

from datetime import timedelta

from northstar_synthetic.context import Config, Row, det_uuid, money
from northstar_synthetic.sales import Sales

FINAL_EVENT = {"completed": "order_completed", "shipped": "order_shipped", "cancelled": "order_cancelled",
               "returned": "order_returned"}
AGENTS = ("Chrome", "Safari", "Firefox", "Edge", "Northstar iOS", "Northstar Android")
CAMPAIGN_CHANNELS = ("search", "social", "email", "display", "affiliate")
OBJECTIVES = ("awareness", "acquisition", "retention", "reactivation")


def order_events(cfg: Config, sales: Sales) -> list[Row]:
    rng = cfg.rng("order_events")
    rows: list[Row] = []
    for f, o in zip(sales.orders, sales.tables["orders"], strict=True):
        total = money(f.total_cents)
        rows.append((det_uuid(rng), f.order_id, "order_created", "pending", f.store_id, f.channel, total, f.currency, o[6]))
        if f.status in FINAL_EVENT:
            rows.append((det_uuid(rng), f.order_id, FINAL_EVENT[f.status], f.status, f.store_id, f.channel, total, f.currency,
                         o[7]))
    rows.sort(key=lambda r: (str(r[8]), str(r[0])))
    return rows


def payment_events(cfg: Config, sales: Sales) -> list[Row]:
    rng = cfg.rng("payment_events")
    rows: list[Row] = []
    for p in sales.tables["payments"]:
        rows.append((det_uuid(rng), p[0], p[1], "payment_authorized", p[2], p[3], p[4], p[6]))
        if p[5] == "captured":
            rows.append((det_uuid(rng), p[0], p[1], "payment_captured", p[2], p[3], p[4], p[6] + timedelta(seconds=2)))  # type: ignore[operator]
    for r in sales.tables["refunds"]:
        rows.append((det_uuid(rng), r[1], r[2], "payment_refunded", "card", r[3], sales.orders[int(str(r[2])) - 1].currency, r[5]))
    rows.sort(key=lambda r: (str(r[7]), str(r[0])))
    return rows


def pos_transactions(cfg: Config, sales: Sales, staff: dict[int, list[int]]) -> list[Row]:
    rng = cfg.rng("pos_transactions")
    rows: list[Row] = []
    for f, o in zip(sales.orders, sales.tables["orders"], strict=True):
        if f.channel != "store" or f.status == "cancelled":
            continue
        register, employee = rng.randint(1, 6), rng.choice(staff[f.store_id])
        method = rng.choice(("card", "card", "cash"))
        for n, (_, product, qty, price, _, _) in enumerate(f.lines, start=1):
            rows.append((f"POS-{f.order_id:010d}-{n}", f.store_id, register, employee, product, qty, money(price), method, o[6]))
    rows.sort(key=lambda r: (str(r[8]), str(r[0])))
    return rows


def inventory_movements(cfg: Config, sales: Sales, supply_tables: dict[str, list[Row]]) -> list[Row]:
    rng = cfg.rng("inventory_movements")
    rows: list[Row] = []
    for s in sales.tables["shipments"]:
        for _, product, qty, *_ in sales.orders[int(str(s[1])) - 1].lines:
            rows.append((det_uuid(rng), s[2], product, "sale_pick", -qty, f"order:{s[1]}", s[5]))
    received = {int(str(p[0])): p for p in supply_tables["purchase_orders"] if p[3] == "received"}
    for line in supply_tables["purchase_order_lines"]:
        po = received.get(int(str(line[1])))
        if po is not None and po[6] < cfg.end:  # type: ignore[operator]
            rows.append((det_uuid(rng), po[2], line[2], "po_receipt", line[3], f"po:{po[0]}", po[6]))
    rows.sort(key=lambda r: (str(r[6]), str(r[0])))
    return rows


def clickstream(cfg: Config, sales: Sales) -> list[Row]:
    rng = cfg.rng("clickstream")
    rows: list[Row] = []
    for f, o in zip(sales.orders, sales.tables["orders"], strict=True):
        if f.channel == "store":
            continue
        session, agent = det_uuid(rng), rng.choice(AGENTS)
        t0 = o[6] - timedelta(minutes=rng.randint(3, 40))  # type: ignore[operator]
        steps = [("home", "page_view", None)] + [("product", "product_view", line[1]) for line in f.lines]
        steps += [("cart", "add_to_cart", f.lines[0][1]), ("checkout", "purchase", None)]
        for n, (page, event, product) in enumerate(steps):
            at = o[6] if event == "purchase" else t0 + timedelta(seconds=30 * n)
            rows.append((det_uuid(rng), session, f.customer_id, page, product, event, agent, at))
    for n in range(len(rows) // 5):  # anonymous browsing sessions that never buy
        at = cfg.at(n * cfg.days // max(1, len(rows) // 5), rng.randint(0, 86_399))
        rows.append((det_uuid(rng), det_uuid(rng), None, "product", rng.randint(1, cfg.n_products), "product_view",
                     rng.choice(AGENTS), at))
    rows.sort(key=lambda r: (str(r[7]), str(r[0])))
    return rows


def marketing(cfg: Config) -> tuple[list[Row], list[Row]]:
    """(marketing_campaigns, marketing_spend): daily spend per campaign while it runs; clicks <= impressions etc."""
    rng = cfg.rng("marketing")
    campaigns: list[Row] = []
    for n in range(1, 13):
        starts = cfg.day(rng.randint(-20, max(0, cfg.days - 2)))
        channel = CAMPAIGN_CHANNELS[n % len(CAMPAIGN_CHANNELS)]
        campaigns.append((f"CMP-{cfg.start.year}-{n:03d}", f"{rng.choice(OBJECTIVES).title()} {channel} wave {n}", channel,
                          OBJECTIVES[n % len(OBJECTIVES)], starts, starts + timedelta(days=rng.randint(7, 45)),
                          money(rng.randint(500_000, 5_000_000))))
    spend: list[Row] = []
    for d in range(cfg.days):
        day = cfg.day(d)
        for c in campaigns:
            if c[4] <= day <= c[5]:  # type: ignore[operator]
                impressions = rng.randint(5_000, 200_000)
                clicks = impressions * rng.randint(5, 40) // 1000
                spend.append((day, c[0], c[2], money(rng.randint(10_000, 400_000)), impressions, clicks,
                              clicks * rng.randint(1, 8) // 100))
    return campaigns, spend


def store_footfall(cfg: Config) -> list[Row]:
    rng = cfg.rng("store_footfall")
    return [(sid, cfg.at(d, hour * 3600), rng.randint(5, 400)) for d in range(cfg.days) for sid in range(2, cfg.n_stores + 1)
            for hour in range(8, 22)]
