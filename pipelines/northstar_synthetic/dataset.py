"""Assemble every source table of sources.yaml from one ``Config``: the single entry point other code calls."""

from __future__ import annotations

from dataclasses import dataclass

from northstar_synthetic import events, finance, reference, sales, supply
from northstar_synthetic.context import Config, Row
from northstar_synthetic.schema import TABLES


@dataclass(frozen=True)
class Dataset:
    """Rows per bronze table name (``<system>__<name>``), each row a tuple in sources.yaml column order."""

    config: Config
    tables: dict[str, list[Row]]

    def rows(self, key: str) -> list[dict[str, object]]:
        """One table as dicts (handy in tests; the tuples stay the compact form for millions of rows)."""
        names = TABLES[key].column_names
        return [dict(zip(names, row, strict=True)) for row in self.tables[key]]

    def counts(self) -> dict[str, int]:
        return {key: len(rows) for key, rows in sorted(self.tables.items())}


def generate(config: Config | None = None) -> Dataset:
    """Every PostgreSQL table, Kafka topic and S3 feed of sources.yaml, referentially intact and deterministic."""
    cfg = config or Config()
    ref = {
        "stores": reference.stores(cfg), "warehouses": reference.warehouses(cfg), "customers": reference.customers(cfg),
        "employees": reference.employees(cfg), "product_categories": reference.product_categories(cfg),
        "brands": reference.brands(cfg), "suppliers": reference.suppliers(cfg), "promotions": reference.promotions(cfg),
    }
    ref["customer_addresses"] = reference.customer_addresses(cfg, ref["customers"])
    ref["products"] = reference.products(cfg, ref["product_categories"])
    sold = sales.generate(cfg, ref["products"])
    sup = supply.generate(cfg, ref["products"], ref["suppliers"])
    po_day = {int(str(p[0])): (p[5].date() - cfg.start).days for p in sup.tables["purchase_orders"]}  # type: ignore[attr-defined]
    entries, lines = finance.journals(cfg, sold, sup.po_cost_cents, po_day)
    campaigns, spend = events.marketing(cfg)
    retail = {**ref, **sold.tables, "gift_cards": sales.gift_cards(cfg), "inventory_snapshots": supply.inventory_snapshots(cfg),
              "purchase_orders": sup.tables["purchase_orders"], "purchase_order_lines": sup.tables["purchase_order_lines"]}
    tables: dict[str, list[Row]] = {f"retail_oltp__{k}": v for k, v in retail.items()}
    tables.update({
        "finance_erp__gl_accounts": finance.gl_accounts(cfg), "finance_erp__cost_centers": finance.cost_centers(cfg),
        "finance_erp__gl_journal_entries": entries, "finance_erp__gl_journal_lines": lines,
        "finance_erp__supplier_invoices": sup.tables["supplier_invoices"],
        "kafka__order_events": events.order_events(cfg, sold), "kafka__payment_events": events.payment_events(cfg, sold),
        "kafka__pos_transactions": events.pos_transactions(cfg, sold, reference.employees_by_store(ref["employees"])),
        "kafka__inventory_movements": events.inventory_movements(cfg, sold, sup.tables),
        "kafka__clickstream": events.clickstream(cfg, sold),
        "s3__supplier_catalog": sup.tables["supplier_catalog"],
        "s3__advance_shipping_notices": sup.tables["advance_shipping_notices"],
        "s3__marketing_campaigns": campaigns, "s3__marketing_spend": spend,
        "s3__exchange_rates": finance.exchange_rates(cfg), "s3__store_footfall": events.store_footfall(cfg),
    })
    missing, extra = set(TABLES) - set(tables), set(tables) - set(TABLES)
    if missing or extra:
        raise AssertionError(f"generator out of step with schema.TABLES: missing {sorted(missing)}, extra {sorted(extra)}")
    for key, rows in tables.items():
        width = len(TABLES[key].columns)
        if rows and len(rows[0]) != width:
            raise AssertionError(f"{key}: rows have {len(rows[0])} values, schema has {width} columns")
    return Dataset(cfg, {k: tables[k] for k in TABLES})
