"""Master data: stores, warehouses, customers and addresses, employees, the product catalogue, promotions.

Ids are dense from 1 so fact tables can pick foreign keys with ``randint`` and stay referentially intact.
"""

from __future__ import annotations

from datetime import timedelta

from northstar_synthetic.context import COUNTRY_CURRENCY, Config, Row, email_hash, money

FIRST_NAMES = ("Ava", "Liam", "Mia", "Noah", "Emma", "Lucas", "Chloe", "Leo", "Zoe", "Mateo", "Ines", "Jonas", "Aria",
               "Omar", "Hana", "Felix", "Maya", "Theo", "Lena", "Ravi")
LAST_NAMES = ("Smith", "Garcia", "Müller", "Martin", "Brown", "Dubois", "Taylor", "Schmidt", "Wilson", "Moreau",
              "Clarke", "Fischer", "Roy", "Tremblay", "Evans", "Bernard")
CITIES = {"US": ("Chicago", "Austin", "Denver", "Seattle"), "CA": ("Toronto", "Montréal"), "GB": ("London", "Leeds"),
          "DE": ("Berlin", "München"), "FR": ("Paris", "Lyon")}
REGIONS = {"US": "north_america", "CA": "north_america", "GB": "europe", "DE": "europe", "FR": "europe"}
COUNTRIES = tuple(COUNTRY_CURRENCY)
DEPARTMENTS = {"Apparel": ("Womenswear", "Menswear", "Kids", "Shoes"), "Home": ("Kitchen", "Bedding", "Decor", "Storage"),
               "Electronics": ("Audio", "Phones", "Computing", "Gaming"), "Grocery": ("Pantry", "Snacks", "Beverages", "Fresh"),
               "Beauty": ("Skincare", "Haircare", "Fragrance", "Makeup"), "Sports": ("Running", "Cycling", "Outdoor", "Fitness")}
BRANDS = ("Northstar Basics", "Northstar Home", "Aurora", "Cobalt", "Evergreen", "Fjord", "Granite", "Harbor", "Iris",
          "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Redwood", "Summit",
          "Tidal", "Umbra", "Vista", "Willow", "Zephyr", "Northstar Fresh")
LOYALTY_TIERS = ("none", "none", "bronze", "silver", "gold")
JOB_ROLES = ("store_manager", "cashier", "cashier", "stock_associate", "sales_associate", "sales_associate")


def store_country(store_id: int) -> str:
    """Store 1 is the e-commerce store (US); physical stores rotate over the countries."""
    return "US" if store_id == 1 else COUNTRIES[(store_id - 2) % len(COUNTRIES)]


def stores(cfg: Config) -> list[Row]:
    rng = cfg.rng("stores")
    rows: list[Row] = []
    for sid in range(1, cfg.n_stores + 1):
        country = store_country(sid)
        city = CITIES[country][sid % len(CITIES[country])]
        code, name = ("WEB-01", "Northstar Online") if sid == 1 else (f"{country}-{sid:03d}", f"Northstar {city} {sid}")
        opened = cfg.start - timedelta(days=rng.randint(200, 4000))
        rows.append((sid, code, name, REGIONS[country], country, opened, 0 if sid == 1 else rng.randint(800, 6000),
                     cfg.at(-1, rng.randint(0, 86_399))))
    return rows


def warehouses(cfg: Config) -> list[Row]:
    return [(wid, f"WH-{COUNTRIES[(wid - 1) % len(COUNTRIES)]}-{wid:02d}", REGIONS[COUNTRIES[(wid - 1) % len(COUNTRIES)]],
             COUNTRIES[(wid - 1) % len(COUNTRIES)]) for wid in range(1, cfg.n_warehouses + 1)]


def customers(cfg: Config) -> list[Row]:
    rng = cfg.rng("customers")
    rows: list[Row] = []
    for cid in range(1, cfg.n_customers + 1):
        signup = cfg.at(-rng.randint(1, 1500), rng.randint(0, 86_399))
        rows.append((cid, email_hash(cid), rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.choice(COUNTRIES),
                     rng.choice(LOYALTY_TIERS), signup, signup + timedelta(days=rng.randint(0, 30))))
    return rows


def customer_addresses(cfg: Config, customer_rows: list[Row]) -> list[Row]:
    rng = cfg.rng("customer_addresses")
    rows: list[Row] = []
    for cust in customer_rows:
        cid, country, updated = cust[0], str(cust[4]), cust[7]
        for n in range(1 + (rng.random() < 0.3)):
            rows.append((len(rows) + 1, cid, rng.choice(CITIES[country]), f"{rng.randint(10000, 99999)}", country, n == 0,
                         updated))
    return rows


def employees(cfg: Config) -> list[Row]:
    rng = cfg.rng("employees")
    rows: list[Row] = []
    for sid in range(2, cfg.n_stores + 1):
        for role in JOB_ROLES:
            hired = cfg.start - timedelta(days=rng.randint(30, 3000))
            terminated = hired + timedelta(days=rng.randint(20, 25)) if rng.random() < 0.05 and role != "store_manager" else None
            rows.append((len(rows) + 1, sid, role, hired, terminated, cfg.at(-1, rng.randint(0, 86_399))))
    return rows


def employees_by_store(employee_rows: list[Row]) -> dict[int, list[int]]:
    by_store: dict[int, list[int]] = {}
    for emp in employee_rows:
        if emp[4] is None:
            by_store.setdefault(int(str(emp[1])), []).append(int(str(emp[0])))
    return by_store


def product_categories(cfg: Config) -> list[Row]:
    rows: list[Row] = []
    for dept, subs in DEPARTMENTS.items():
        parent = len(rows) + 1
        rows.append((parent, None, dept, dept))
        rows.extend((len(rows) + 1, parent, sub, dept) for sub in subs)
    return rows


def brands(cfg: Config) -> list[Row]:
    return [(bid, name, name.startswith("Northstar")) for bid, name in enumerate(BRANDS, start=1)]


def suppliers(cfg: Config) -> list[Row]:
    rng = cfg.rng("suppliers")
    return [(sid, f"{rng.choice(BRANDS).split()[-1]} Trading {sid}", rng.choice(COUNTRIES), rng.choice((30, 45, 60, 90)),
             cfg.at(-1, rng.randint(0, 86_399))) for sid in range(1, cfg.n_suppliers + 1)]


def products(cfg: Config, category_rows: list[Row]) -> list[Row]:
    rng = cfg.rng("products")
    leaf = [(int(str(c[0])), str(c[2])) for c in category_rows if c[1] is not None]
    rows: list[Row] = []
    for pid in range(1, cfg.n_products + 1):
        cat_id, cat_name = rng.choice(leaf)
        brand = rng.randint(1, len(BRANDS))
        cost = rng.randint(150, 20_000)
        price = cost * rng.randint(130, 250) // 100 // 5 * 5 + 4  # prices end in 4 or 9 cents
        rows.append((pid, f"SKU-{pid:07d}", f"{BRANDS[brand - 1]} {cat_name} {pid}", cat_id, brand,
                     rng.randint(1, cfg.n_suppliers), money(cost), money(price), rng.random() > 0.03,
                     cfg.at(-1, rng.randint(0, 86_399))))
    return rows


def promotions(cfg: Config) -> list[Row]:
    rng = cfg.rng("promotions")
    rows: list[Row] = []
    for pid in range(1, 11):
        kind = rng.choice(("percent", "fixed_amount"))
        value = money(rng.choice((500, 1000, 1500, 2000))) if kind == "percent" else money(rng.choice((500, 1000, 2500)))
        start = cfg.at(rng.randint(-30, max(0, cfg.days - 1)), 0)
        rows.append((pid, f"Promo {pid}: {kind.replace('_', ' ')}", kind, value, start, start + timedelta(days=14)))
    return rows
