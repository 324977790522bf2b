"""detect-secrets plugins for what its built-in rules miss.

Why: detect-secrets' BasicAuthDetector skips URL passwords holding RFC 3986 delimiters such as `$` or `!`, and
its KeywordDetector does not know keys such as `snowflake_pw=`, `db_pwd:` or `sf_passphrase=` in YAML/INI/.env and
dbt profiles. These rules catch them and stay quiet when the value is a reference rather than a secret: a dbt
`env_var()`, a Jinja/shell/INI interpolation, an Airflow Variable/Connection lookup, a secrets-manager ARN or name,
or an ALL_CAPS environment-variable name. This file is loaded by detect-secrets through its `file://` plugin path,
so it imports only the standard library and detect_secrets.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from detect_secrets.plugins.base import BasePlugin

# Schemes whose URLs carry database/warehouse credentials (SQLAlchemy-style `+driver` suffixes included).
_DB_URL = re.compile(
    r"(?i)\b(?:postgres(?:ql)?|snowflake|mysql|mariadb|redshift|mssql|oracle|mongodb(?:\+srv)?|redis|rediss|amqps?|"
    r"clickhouse|trino|presto|databricks|jdbc:[a-z0-9]+)(?:\+[a-z0-9_]+)?://([^:@/\s'\"]*):([^@\s'\"]+)@"
)
# A key naming a credential. `pw`/`pwd` only as a whole word part (snowflake_pw, db-pwd), not inside other words.
_KEY = re.compile(
    r"(?i)(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|"
    r"(?:^|[_.-])pwd?(?:$|[_.-]))"
)
# `key: value`, `key = value`, `key := value`, `"key": "value"`, `export KEY=value`, `--key=value`.
_ASSIGN = re.compile(r"""^\s*(?:export\s+|-{1,2})?["']?([A-Za-z0-9_.-]+)["']?\s*(?::=|=|:)\s*(.*?)\s*$""")
# Keys that name a secret (where it lives, how long it lives) rather than hold it.
_KEY_IS_METADATA = re.compile(
    r"(?i)(?:_env|_var|_variable|_name|_ref|_reference|_arn|_path|_file|_url|_uri|_backend|_backend_kwargs|_kwargs|_type|_ttl|"
    r"_id|_key_id|_length|_expiry|_expires|_endpoint|_header|_prefix|_scope|_mode|_source|_command|_cmd|_field)$"
)
_REFERENCE = re.compile(
    r"(?i)env_var\(|\{\{|\$\{|^\$|%\(|os\.environ|getenv\(|Variable\.get|BaseHook\.get_connection|require_secret|get_secret|"
    r"secretsmanager|^arn:aws:|^!(?:secret|env)\b|^vault:|^ssm:|^<[^>]*>$|^\*+$|SecretStr\(|secret\("
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_NOT_A_SECRET = {"", "null", "none", "~", "true", "false", "yes", "no", "changeme", "required", "optional", "redacted"}
_CODE_SUFFIXES = (".py", ".pyi", ".js", ".ts", ".java", ".scala", ".go", ".rs", ".sql", ".md", ".rst", ".txt", ".html")


def is_reference(value: str) -> bool:
    """True when `value` points at a secret (env var, template, secrets backend) instead of containing it."""
    bare = value.strip().strip("'\"").strip()
    return (bare.lower() in _NOT_A_SECRET or bool(_REFERENCE.search(bare)) or bool(_ENV_NAME.match(bare))
            or bare.replace(".", "", 1).isdigit())


class DatabaseUrlPasswordDetector(BasePlugin):
    """Password inside a database/warehouse URL (postgresql, snowflake, mysql, ... scheme; user, colon, password, @host)."""

    secret_type = "Database URL Password"  # noqa: S105  # pragma: allowlist secret (a rule name)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for match in _DB_URL.finditer(string):
            password = match.group(2)
            if not is_reference(password):
                yield password


class ConfigPasswordDetector(BasePlugin):
    """`password:`/`snowflake_pw=`-style keys with a literal value in YAML, INI, .env, profiles.yml, shell and code.

    In code and prose files only a quoted literal counts (`password = get_pw()` is an expression, not a secret).
    """

    secret_type = "Password in Config"  # noqa: S105  # pragma: allowlist secret (a rule name)

    def analyze_line(self, filename: str, line: str, line_number: int = 0, context: Any = None, **kwargs: Any) -> Any:
        self._code = filename.lower().endswith(_CODE_SUFFIXES)
        return super().analyze_line(filename=filename, line=line, line_number=line_number, context=context, **kwargs)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        match = _ASSIGN.match(string)
        if not match:
            return
        key, value = match.group(1), match.group(2)
        if not _KEY.search(key) or _KEY_IS_METADATA.search(key):
            return
        quoted = value[:1] in ("'", '"')
        if quoted:
            end = value.find(value[0], 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            if getattr(self, "_code", False):
                return
            value = re.split(r"\s+#|\s*;\s*$|,\s*$", value, maxsplit=1)[0].strip()
            if value.endswith(("{", "[", "(")) or value in ("|", ">", "|-", ">-"):
                return  # a nested block starts here, not a value
        if len(value) < 4 or is_reference(value):
            return
        yield value
