"""Per-environment configuration: ``pipelines/config/<env>.yaml``, one schema-validated file per environment.

Why one file per env, in the repository: what differs between dev, staging and prod (Airflow variables and
connections, Spark conf, the warehouse target, the infra stack and its cost budget) is then a reviewed, gated and
audited change like code -- built from the commit, validated at ``build`` (exit 2 naming file, key and rule), and its
sha256 recorded by the ``env_config`` gate in every deployment's evidence (``audit export`` shows which config a
release was deployed with).

Secrets are referenced, never stored: an Airflow connection or variable names where its value lives (``env:NAME``
for the environment-variable backend, ``file:PATH`` for the local file backend, ``aws-sm:NAME`` / ``ssm:NAME`` for
AWS Secrets Manager / Parameter Store); a literal value is refused by the schema, and secret-looking Spark conf
keys are refused outright.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from northstar_release import gitutil
from northstar_release.errors import ConfigError, UsageError

CONFIG_DIR = "pipelines/config"
REFERENCE = re.compile(r"^(env:[A-Z][A-Z0-9_]*|file:[\w./-]+|aws-sm:[\w/+=.@-]+|ssm:/[\w/.-]+)$")
AIRFLOW_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SECRET_CONF_KEY = re.compile(r"(?i)(password|secret|token|credential|access\.key|secret\.key|passphrase)")
BACKENDS = {"local": ("env", "file"), "aws": ("aws-sm", "ssm")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Reference(_Strict):
    """Where a connection's or a variable's value lives; the config never holds the value itself."""

    ref: str = Field(description="env:NAME | file:PATH | aws-sm:NAME | ssm:/PATH")
    description: str = ""

    @field_validator("ref")
    @classmethod
    def _is_reference(cls, value: str) -> str:
        if not REFERENCE.match(value):
            raise ValueError("must be a secret reference (env:NAME, file:PATH, aws-sm:NAME or ssm:/PATH), never a "
                             "literal value")
        return value


class Airflow(_Strict):
    backend: Literal["local", "aws"]  # the Airflow secrets backend the references are read through
    connections: dict[str, Reference] = Field(default_factory=dict)
    variables: dict[str, Reference] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_and_backend(self) -> Airflow:
        allowed = BACKENDS[self.backend]
        for section, entries in (("connections", self.connections), ("variables", self.variables)):
            for name, entry in entries.items():
                if not AIRFLOW_NAME.match(name):
                    raise ValueError(f"{section}.{name}: name must be lower_snake_case")
                if entry.ref.split(":", 1)[0] not in allowed:
                    raise ValueError(f"{section}.{name}.ref: the {self.backend} secrets backend reads only "
                                     f"{' / '.join(p + ':' for p in allowed)} references")
        return self


class Spark(_Strict):
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf")
    @classmethod
    def _spark_keys(cls, conf: dict[str, str]) -> dict[str, str]:
        for key in conf:
            if not key.startswith("spark."):
                raise ValueError(f"{key}: Spark conf keys start with 'spark.'")
            if SECRET_CONF_KEY.search(key):
                raise ValueError(f"{key}: credentials never go into Spark conf (use the job role / a secret reference)")
        return conf


class Warehouse(_Strict):
    target: Literal["duckdb", "snowflake"]
    schema_: str = Field(alias="schema", pattern=r"^[a-z][a-z0-9_]*$")
    threads: int = Field(ge=1, le=64)


class Infra(_Strict):
    stack: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    region: str = Field(pattern=r"^[a-z]{2}-[a-z]+-\d$")
    monthly_budget_usd: float = Field(default=15000, gt=0)  # the cost gate's ceiling on incremental monthly cost
    cost_growth_threshold_pct: float = Field(default=25, ge=0)  # growth above this needs an ack:infra-cost tag


class EnvConfig(_Strict):
    environment: str
    airflow: Airflow
    spark: Spark
    warehouse: Warehouse
    infra: Infra


def config_path(env: str) -> str:
    return f"{CONFIG_DIR}/{env}.yaml"


_SUBKEY = re.compile(r"^([A-Za-z_][\w.-]*): (.*)$", re.DOTALL)


def _problem(name: str, error: Any) -> str:
    """``file: key.path: rule``; a validator that names a sub-key (``warehouse.ref: ...``) extends the path."""
    loc = ".".join(str(p) for p in error["loc"]) or "<root>"
    msg = str(error["msg"]).removeprefix("Value error, ")
    sub = _SUBKEY.match(msg) if error["type"] == "value_error" else None
    if sub:
        loc, msg = f"{loc}.{sub.group(1)}", sub.group(2)
    return f"{name}: {loc}: {msg}"


def parse(raw: bytes, name: str, env: str) -> EnvConfig:
    """Validate one config file's bytes; raise ConfigError whose reasons each name the file, the key and the rule."""
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML", [f"{name}: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: invalid environment config", [f"{name}: <root>: must be a mapping"])
    try:
        config = EnvConfig.model_validate(data)
    except ValidationError as exc:
        reasons = [_problem(name, e) for e in exc.errors()]
        raise ConfigError(f"{name}: invalid environment config ({len(reasons)} problem(s))", reasons) from None
    if config.environment != env:
        raise ConfigError(f"{name}: invalid environment config",
                          [f"{name}: environment: must be {env!r} (the file's environment), got {config.environment!r}"])
    return config


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_at(repo: Path, commit: str, env: str) -> bytes | None:
    """The config file's bytes at ``commit``, or None when the commit has none for ``env``."""
    try:
        return gitutil.git(repo, "show", f"{commit}:{config_path(env)}")
    except UsageError:
        return None


def load_at(repo: Path, commit: str, env: str) -> tuple[EnvConfig, str] | None:
    """(validated config, sha256) of ``env`` at ``commit``; None when the commit has no config for ``env``."""
    raw = read_at(repo, commit, env)
    if raw is None:
        return None
    return parse(raw, config_path(env), env), digest(raw)


def validate_all(repo: Path, commit: str, envs: list[str]) -> dict[str, str]:
    """Validate every env's config at ``commit`` (all problems at once); env -> sha256 of the ones present."""
    reasons: list[str] = []
    digests: dict[str, str] = {}
    for env in envs:
        try:
            loaded = load_at(repo, commit, env)
        except ConfigError as exc:
            reasons += exc.reasons
            continue
        if loaded is not None:
            digests[env] = loaded[1]
    if reasons:
        raise ConfigError(f"invalid environment config in {CONFIG_DIR}/ ({len(reasons)} problem(s))", reasons)
    return digests


def validate_commit(repo: Path, commit: str) -> dict[str, str]:
    """Validate every ``pipelines/config/<env>.yaml`` at ``commit`` (what ``build`` ships); env -> sha256."""
    envs = sorted(Path(p).stem for p, _ in gitutil.list_tree(repo, commit, CONFIG_DIR) if p.endswith(".yaml"))
    return validate_all(repo, commit, envs)
