"""Column-level lineage with sqlglot: which columns of one relation a SQL query actually uses.

Why sqlglot's optimizer and not a name search: a staging model typically reads ``select *, row_number() ... from
source`` in a CTE and then picks a few columns; every source column *appears* in the CTE once the star is expanded,
but only the picked ones (and those in the window, filters, joins) are used. ``qualify`` expands stars and binds each
column to its source with the relation's known columns; ``pushdown_projections`` then drops CTE/subquery
projections nothing reads; the columns still bound to the relation are the ones the query needs. A column that stays
unbound (an unqualified name in a join with a relation of unknown columns) counts as used when the relation has a
column of that name: over-reporting a consumer is safe, missing one is not. SQL sqlglot cannot parse or qualify
yields ``None`` (the caller treats every column as used and says why).

Not imported by the Pants plugin (which needs no sqlglot); Python 3.9 compatible like the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

_TARGET_DB = "__lineage_target__"


def _matches(table: object, name: str, db: str | None) -> bool:
    from sqlglot import exp

    if not isinstance(table, exp.Table) or table.name.lower() != name:
        return False
    return not db or not table.db or table.db.lower() in (db, _TARGET_DB)


def used_columns(sql: str, relation: str, columns: Mapping[str, str], dialect: str = "duckdb") -> set[str] | None:
    """The columns of ``relation`` (``name`` or ``schema.name``; ``columns``: name -> type) that ``sql`` uses, or
    ``None`` when the SQL does not parse/qualify. An empty set: the query does not read the relation."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.pushdown_projections import pushdown_projections
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    db, _, name = relation.lower().rpartition(".")
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return None
    if tree is None:
        return None
    targets = [t for t in tree.find_all(exp.Table) if _matches(t, name, db)]
    if not targets:
        return set()
    for table in targets:
        table.set("db", exp.to_identifier(_TARGET_DB))
        table.set("catalog", None)
    known = {c.lower(): c for c in columns}
    schema: dict[str, object] = {_TARGET_DB: {name: {c: (t or "unknown") for c, t in columns.items()}}}
    try:
        tree = qualify(tree, schema=schema, dialect=dialect, validate_qualify_columns=False, quote_identifiers=False,
                       identify=False)
        tree = pushdown_projections(tree)
        scopes = list(traverse_scope(tree))
    except (SqlglotError, KeyError, ValueError, TypeError):
        return None
    used: set[str] = set()
    for scope in scopes:
        reads_target = any(_matches(s, name, db) for s in scope.sources.values())
        for column in scope.columns:
            source = scope.sources.get(column.table) if column.table else None
            if source is not None and _matches(source, name, db) and column.name.lower() in known:
                used.add(known[column.name.lower()])
            elif source is None and reads_target and column.name.lower() in known:
                used.add(known[column.name.lower()])
        selects = scope.expression.selects if isinstance(scope.expression, exp.Select) else []
        if reads_target and any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in selects):
            used |= set(columns)  # a star left unexpanded on the relation: every column is read
    return used


def sql_strings(python_source: str) -> Iterable[str]:
    """String constants of a Python file that look like SQL queries (a DAG's ``sql=`` arguments, query constants)."""
    import ast

    try:
        tree = ast.parse(python_source)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            head = text[:20].lower()
            if (head.startswith("select") or head.startswith("with ")) and "from" in text.lower().split():
                out.append(text)
    return out
