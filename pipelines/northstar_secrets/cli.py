"""CLI: `scan [--baseline FILE] [--json] PATHS...` and `scan-archive FILE`. Exit 0 clean, 1 findings, 2 bad input.

Output names file, line, rule and fingerprint only. Findings listed in the baseline (reviewed false positives) are
reported with `baselined: true` and do not block.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import NoReturn

import click

from northstar_secrets.archive import scan_archive
from northstar_secrets.baseline import write_baseline
from northstar_secrets.scanner import Finding, ScanError, expand, load_baseline, scan_files

DEFAULT_BASELINE = Path(".secrets.baseline")


def _fail(message: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"status": "error", "error": message}))
    click.echo(f"northstar_secrets: error: {message}", err=True)
    sys.exit(2)


def _report(findings: list[Finding], scanned: int, as_json: bool) -> NoReturn:
    blocking = [f for f in findings if not f.baselined]
    if as_json:
        click.echo(json.dumps({
            "status": "findings" if blocking else "clean",
            "files_scanned": scanned,
            "blocking": len(blocking),
            "baselined": len(findings) - len(blocking),
            "findings": [f.model_dump() for f in findings],
        }))
    else:
        for f in findings:
            mark = " (baselined)" if f.baselined else ""
            click.echo(f"{f.file}:{f.line}: {f.type} [{f.fingerprint}]{mark}")
        click.echo(f"{scanned} file(s) scanned: {len(blocking)} blocking finding(s), {len(findings) - len(blocking)} baselined")
    sys.exit(1 if blocking else 0)


def _baseline(path: Path | None, as_json: bool) -> set[tuple[str, str, str]]:
    if path is None:
        return load_baseline(DEFAULT_BASELINE) if DEFAULT_BASELINE.is_file() else set()
    if not path.is_file():
        _fail(f"{path}: baseline file not found", as_json)
    return load_baseline(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Secret scanning (detect-secrets + Northstar rules). Never prints a secret's value."""
    logging.getLogger("detect-secrets").setLevel(logging.CRITICAL)  # its warnings name files only, but keep stdout ours


@main.command()
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="detect-secrets baseline of reviewed false positives (default: ./.secrets.baseline if present)")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="paths in output and baseline are relative to this folder")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object on stdout")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def scan(baseline: Path | None, root: Path, as_json: bool, paths: tuple[Path, ...]) -> None:
    """Scan files and folders (a folder in a git work tree: its tracked and new, non-ignored files)."""
    try:
        known = _baseline(baseline, as_json)
        skip = (baseline or DEFAULT_BASELINE).resolve()  # its hashes and keyword names are not secrets
        files = [f for f in expand(paths) if f.resolve() != skip]
        findings = scan_files(files, root, known)
    except ScanError as exc:
        _fail(str(exc), as_json)
    _report(findings, len(files), as_json)


@main.command("scan-archive")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="detect-secrets baseline (entries match by member path or ARCHIVE!member)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object on stdout")
@click.argument("archive", type=click.Path(path_type=Path))
def scan_archive_cmd(baseline: Path | None, as_json: bool, archive: Path) -> None:
    """Scan a built artifact: tarball or zip/PEX/wheel, nested archives one level deep."""
    try:
        known = _baseline(baseline, as_json)
        findings, scanned = scan_archive(archive, known)
    except ScanError as exc:
        _fail(str(exc), as_json)
    _report(findings, scanned, as_json)


@main.command("write-baseline")
@click.option("--output", type=click.Path(path_type=Path), default=DEFAULT_BASELINE, show_default=True)
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def write_baseline_cmd(output: Path, root: Path, paths: tuple[Path, ...]) -> None:
    """Write every current finding under PATHS to a baseline for review (prune it; each entry is a reviewed claim)."""
    try:
        count = write_baseline(expand(paths), root, output)
    except ScanError as exc:
        _fail(str(exc), False)
    click.echo(f"{output}: {count} entr{'y' if count == 1 else 'ies'} written; review each before committing")
