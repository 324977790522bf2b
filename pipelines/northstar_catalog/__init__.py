"""The Northstar pipeline catalog: load (validating) pipelines/catalog, cross-check it, generate DAGs from it.

    from northstar_catalog import load_catalog
    catalog = load_catalog()          # raises CatalogError listing every problem (file, key, line, rule)
"""

from northstar_catalog.loader import Catalog, Entry, find_root, load_catalog
from northstar_catalog.problems import CatalogError, Problem

__all__ = ["Catalog", "CatalogError", "Entry", "Problem", "find_root", "load_catalog"]
