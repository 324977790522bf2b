"""Offline policy check of one stack: run the Pulumi program under mocks with a stack config file, apply the rules.

Usage::

    python -m northstar_infra.check --stack ENV [--config FILE] [--program MODULE:FUNCTION] [--state-out FILE]
    python -m northstar_infra.check preview ...   # resource diff and monthly cost (northstar_infra/preview.py)

Prints exactly one JSON object on stdout (``northstar_contracts.harness``), a
``northstar_contracts.infra.InfraCheckReport``::

    {"stack": ENV, "config": FILE, "project": NAME, "program": SPEC, "resources": [{"urn", "type", "name"}],
     "violations": [{"resource", "policy", "message"}], "ok": bool}

Exit status: 0 no violations, 1 violations (including a program that refuses the config), 2 bad usage (missing or
unreadable config file, malformed YAML, bad --program: an ``ErrorRecord`` of kind ``usage``).

Why mocks and not ``pulumi preview``: the release engine must decide before and after every switch whether a stack
config is compliant, on machines without the Pulumi CLI or cloud credentials. ``pulumi.runtime.set_mocks`` executes
the real program (``stack.build``) and records every resource registration; the rules in ``policies.py`` -- the same
functions the pulumi-policy pack in ``policy_pack.py`` calls at preview time -- then judge the recorded inputs.

Why ``--config`` is a path and the stack files are not baked into the PEX: what must be judged is the config that
is (or is about to be) live in an environment -- the release engine renders it into its state folder with the
release's artifact-version map -- not whatever ``Pulumi.<stack>.yaml`` happened to be checked out when the PEX was
built. Without ``--config`` the file is looked up as ``Pulumi.<stack>.yaml`` in ``./infra/`` (the repository root
is the engine's working directory), then ``.``, then beside this package in a source checkout.
The project name (config keys without a namespace) comes from ``Pulumi.yaml`` beside the config file.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from northstar_contracts.harness import JsonArgumentParser, Outcome, UsageError, exit_now, run_entrypoint
from northstar_contracts.infra import InfraCheckReport, InfraResource, InfraViolation

DEFAULT_PROJECT = "northstar-platform"
DEFAULT_PROGRAM = "northstar_infra.stack:build"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

_SIG_KEY = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc._special_sig_key
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - pulumi.runtime.rpc._special_secret_sig, not a secret


def unwrap_secrets(value: Any) -> Any:
    """Provider-secret inputs (e.g. SSM ``value``) reach mocks wrapped; policies want plain values."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def _recording_mocks_class() -> type:
    import pulumi

    from northstar_infra import policies

    class RecordingMocks(pulumi.runtime.Mocks):  # type: ignore[misc]
        """Records every registration; echoes inputs back as state, adding what AWS would compute."""

        def __init__(self) -> None:
            self.resources: list[policies.Resource] = []

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            state: dict[str, Any] = unwrap_secrets(dict(args.inputs))
            if args.typ == policies.BUCKET:
                state.setdefault("bucket", f"{args.name}-1a2b3c")
                resource_id = state["bucket"]
                state["arn"] = f"arn:aws:s3:::{resource_id}"
            else:
                resource_id = f"{args.name}-id"
                state.setdefault("arn", f"arn:aws:mock:us-east-1:123456789012:{args.name}")
            self.resources.append(policies.Resource(type=args.typ, name=args.name, props=state, id=resource_id))
            return resource_id, state

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            return {}, None

    return RecordingMocks


def read_stack_config(path: Path, project: str = DEFAULT_PROJECT) -> dict[str, str]:
    """A ``Pulumi.<stack>.yaml`` as the program sees it: namespaced keys, structured values JSON-encoded strings."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read stack config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"stack config {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("config", {}), dict):
        raise UsageError(f"stack config {path}: expected a mapping with a 'config' mapping")
    config: dict[str, str] = {}
    for key, value in (data.get("config") or {}).items():
        name = str(key) if ":" in str(key) else f"{project}:{key}"
        config[name] = value if isinstance(value, str) else json.dumps(value)
    return config


def project_name(config_path: Path) -> str:
    """The ``name`` in ``Pulumi.yaml`` beside the stack config, else the Northstar project name."""
    import yaml

    project_file = config_path.parent / "Pulumi.yaml"
    if project_file.is_file():
        try:
            data = yaml.safe_load(project_file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise UsageError(f"{project_file} is not valid YAML: {exc}") from exc
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            return data["name"]
    return DEFAULT_PROJECT


def default_config_path(stack: str) -> Path:
    candidates = [Path("infra") / f"Pulumi.{stack}.yaml", Path(f"Pulumi.{stack}.yaml"),
                  Path(__file__).resolve().parents[1] / f"Pulumi.{stack}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError(f"no stack config for '{stack}': pass --config FILE (looked for "
                       + ", ".join(str(c) for c in candidates) + ")")


def load_program(spec: str) -> Callable[[], Any]:
    if spec == DEFAULT_PROGRAM:  # a literal import, so Pants packs the real program into the PEX
        from northstar_infra import stack

        return stack.build
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(f"--program must be MODULE:FUNCTION, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--program: cannot import {module_name}: {exc}") from exc
    program = getattr(module, attr, None)
    if not callable(program):
        raise UsageError(f"--program: {module_name} has no function {attr}")
    return program  # type: ignore[no-any-return]


def _urns_of(value: Any) -> list[Any]:
    """Every ``urn`` output reachable from what the program returned (a dataclass of resources, a list, ...)."""
    import pulumi

    if isinstance(value, pulumi.Resource):
        return [value.urn]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [u for f in dataclasses.fields(value) for u in _urns_of(getattr(value, f.name))]
    if isinstance(value, list | tuple):
        return [u for v in value for u in _urns_of(v)]
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urns_of(v)]
    return []


def run_program(stack: str, config: dict[str, str], project: str = DEFAULT_PROJECT,
                program: Callable[[], Any] | None = None) -> tuple[list[Any], dict[tuple[str, str], str]]:
    """Execute the program under mocks; return the recorded resources and their URNs by (type, logical name)."""
    import pulumi

    mocks = _recording_mocks_class()()
    monitor = pulumi.runtime.mocks.MockMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    build = program or load_program(DEFAULT_PROGRAM)

    @pulumi.runtime.test
    def _program() -> Any:
        return pulumi.Output.all(*_urns_of(build()))

    _program()
    # URN = urn:pulumi:<stack>::<project>::<parent types$>type::name; key by (type, name): names repeat across types.
    # The mock monitor qualifies children of the root stack with "pulumi:pulumi:Stack$"; the real engine does not.
    urns = {}
    for raw in monitor.resources:
        parts = raw.split("::")
        qualified = parts[2].removeprefix(ROOT_STACK_TYPE + "$")
        urns[(qualified.split("$")[-1], parts[3])] = "::".join([parts[0], parts[1], qualified, *parts[3:]])
    return mocks.resources, urns


def check_stack(stack: str, config_path: Path, program_spec: str = DEFAULT_PROGRAM) -> InfraCheckReport:
    """The result record for one stack config (see module docstring)."""
    from northstar_infra import policies

    project = project_name(config_path)
    config = read_stack_config(config_path, project)
    program = load_program(program_spec)
    violations: list[InfraViolation] = []

    def report(resources: list[InfraResource]) -> InfraCheckReport:
        return InfraCheckReport(ok=not violations, stack=stack, config=str(config_path), project=project,
                                program=program_spec, resources=resources, violations=violations)

    environment = config.get("northstar:environment")
    if environment is not None and environment != stack:
        violations.append(InfraViolation(resource=None, policy="stack-environment",
                                         message=f"northstar:environment is {environment!r} but the stack is {stack!r}"))
    try:
        resources, urns = run_program(stack, config, project, program)
    except Exception as exc:  # the program refused this config: a finding about the config, not a usage error
        violations.append(InfraViolation(resource=None, policy="program-error", message=f"{type(exc).__name__}: {exc}"))
        return report([])

    def urn(resource: Any) -> str:
        return urns.get((resource.type, resource.name), f"{resource.type}::{resource.name}")

    ordered = sorted(resources, key=lambda r: (r.type, r.name))
    # Per-resource rules know their resource; the cross-resource rules of validate_stack only ever name buckets.
    seen = set()
    for resource in ordered:
        for violation in policies.validate_resource(resource):
            seen.add((violation.rule, violation.resource, violation.message))
            violations.append(InfraViolation(resource=urn(resource), policy=violation.rule, message=violation.message))
    buckets = {r.name: r for r in ordered if r.type in policies.BUCKET_TYPES}
    for violation in policies.validate_stack(resources):
        if (violation.rule, violation.resource, violation.message) in seen:
            continue
        bucket = buckets.get(violation.resource)
        violations.append(InfraViolation(resource=urn(bucket) if bucket else violation.resource,
                                         policy=violation.rule, message=violation.message))
    return report([InfraResource(urn=urn(r), type=r.type, name=r.name) for r in ordered])


def handle(argv: list[str]) -> Outcome:
    if argv[:1] == ["preview"]:  # `infra_check preview ...`: the diff and cost subcommand (preview.py)
        from northstar_infra import preview

        return preview.handle(argv[1:])
    parser = JsonArgumentParser(prog="northstar_infra.check", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack / environment name (dev, staging, prod)")
    parser.add_argument("--config", type=Path, help="stack config file (default: infra/Pulumi.<stack>.yaml)")
    parser.add_argument("--program", default=DEFAULT_PROGRAM, help="MODULE:FUNCTION declaring the resources")
    parser.add_argument("--state-out", type=Path,
                        help="when the config passes, write the stack state (resources with inputs) here atomically: "
                             "the baseline `preview` diffs against (the release engine keeps it per deployed env)")
    args = parser.parse_args(argv)
    try:
        config_path = args.config if args.config is not None else default_config_path(args.stack)
        if not config_path.is_file():
            raise UsageError(f"stack config {config_path} does not exist")
        report = check_stack(args.stack, config_path, args.program)
        if report.ok and args.state_out is not None:
            from northstar_infra import preview

            preview.write_state(preview.snapshot(args.stack, config_path, args.program), args.state_out)
        return Outcome.of(report)
    except UsageError as exc:
        exc.details.setdefault("stack", args.stack)
        raise


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None) -> int:
    """One JSON object on ``stdout`` (default: the process's stdout), exit 0 / 1 / 2."""
    return run_entrypoint(handle, argv, stdout=stdout, command="check")


if __name__ == "__main__":
    # The Pulumi runtime leaves asyncio loops whose finalizers print "Exception ignored ..." noise at interpreter
    # shutdown; the result is complete and flushed, so leave without running them.
    exit_now(main())
