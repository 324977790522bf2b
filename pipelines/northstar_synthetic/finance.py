"""Finance ERP: chart of accounts, cost centers, balanced journals, and the FX feed.

Every journal entry balances (sum of debits == sum of credits, in cents) by construction: sales entries debit cash
for what was paid and credit revenue (net of discount) plus sales tax; refund entries reverse cash; AP entries debit
inventory and credit accounts payable for each received PO's invoice.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from northstar_synthetic.context import CURRENCIES, Config, Row, money
from northstar_synthetic.sales import Sales

ACCOUNTS = (
    (1000, "1000", "Assets", "asset", None), (1100, "1100", "Cash and card clearing", "asset", 1000),
    (1300, "1300", "Inventory", "asset", 1000), (2000, "2000", "Liabilities", "liability", None),
    (2100, "2100", "Accounts payable", "liability", 2000), (2200, "2200", "Sales tax payable", "liability", 2000),
    (2300, "2300", "Gift card liability", "liability", 2000), (3000, "3000", "Equity", "equity", None),
    (4000, "4000", "Revenue", "revenue", None), (4010, "4010", "Product revenue", "revenue", 4000),
    (4100, "4100", "Sales returns", "revenue", 4000), (5000, "5000", "Cost of goods sold", "expense", None),
    (6000, "6000", "Operating expenses", "expense", None), (6100, "6100", "Payroll", "expense", 6000),
)


def gl_accounts(cfg: Config) -> list[Row]:
    return list(ACCOUNTS)


def cost_centers(cfg: Config) -> list[Row]:
    rows: list[Row] = [(1, "CC-HQ", "Head office", None)]
    rows.extend((sid, f"CC-{sid:03d}", f"Store {sid}", sid) for sid in range(2, cfg.n_stores + 1))
    rows.append((cfg.n_stores + 1, "CC-ECOM", "E-commerce", 1))
    return rows


def cost_center_of_store(cfg: Config, store_id: int) -> int:
    return cfg.n_stores + 1 if store_id == 1 else store_id


def journals(cfg: Config, sales: Sales, po_cost_cents: dict[int, int], po_day: dict[int, int]) -> tuple[list[Row], list[Row]]:
    """(gl_journal_entries, gl_journal_lines); one sales and one refund entry per store and day, one AP entry per PO."""
    rng = cfg.rng("gl_journal_entries")
    sold: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # (day, store, ccy) -> total, net, tax
    refunded: dict[tuple[int, int, str], int] = defaultdict(int)
    for f in sales.orders:
        if f.order_id in sales.payment_of_order and f.status != "pending":
            acc = sold[(f.day, f.store_id, f.currency)]
            acc[0] += f.total_cents
            acc[1] += f.net_cents
            acc[2] += f.tax_cents
        if f.order_id in sales.refunds_by_order:
            refunded[(f.day, f.store_id, f.currency)] += sales.refunds_by_order[f.order_id]
    entries: list[Row] = []
    lines: list[Row] = []

    def entry(day: int, source: str, legs: list[tuple[int, int, int, int, str]]) -> None:
        """legs: (account, cost center, debit cents, credit cents, currency)."""
        jid = len(entries) + 1
        on = cfg.day(day)
        entries.append((jid, on, on.strftime("%Y-%m"), source, "posted", cfg.at(day, 23 * 3600 + rng.randint(0, 3599))))
        for account, cc, debit, credit, ccy in legs:
            lines.append((len(lines) + 1, jid, account, cc, money(debit), money(credit), ccy))

    for (day, store, ccy), (total, net, tax) in sorted(sold.items()):
        cc = cost_center_of_store(cfg, store)
        entry(day, "sales", [(1100, cc, total, 0, ccy), (4010, cc, 0, net, ccy), (2200, cc, 0, tax, ccy)])
    for (day, store, ccy), amount in sorted(refunded.items()):
        cc = cost_center_of_store(cfg, store)
        entry(day, "refunds", [(4100, cc, amount, 0, ccy), (1100, cc, 0, amount, ccy)])
    for po_id, amount in sorted(po_cost_cents.items()):
        entry(po_day[po_id], "accounts_payable", [(1300, 1, amount, 0, "USD"), (2100, 1, 0, amount, "USD")])
    for day in range(cfg.days):
        payroll = [(6100, cc, rng.randint(50_000, 400_000), 0, "USD") for cc in range(2, min(cfg.n_stores, 8) + 1)]
        entry(day, "payroll", [*payroll, (1100, 1, 0, sum(p[2] for p in payroll), "USD")])
    return entries, lines


def exchange_rates(cfg: Config) -> list[Row]:
    rng = cfg.rng("exchange_rates")
    level = {"USD": 1.0, "EUR": 1.09, "GBP": 1.27, "CAD": 0.74}
    rows: list[Row] = []
    for d in range(cfg.days):
        for ccy in CURRENCIES:
            if ccy != "USD":
                level[ccy] *= 1 + rng.uniform(-0.004, 0.004)
            rows.append((cfg.day(d), ccy, Decimal(f"{level[ccy]:.8f}")))
    return rows
