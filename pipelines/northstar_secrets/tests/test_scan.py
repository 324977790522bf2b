"""Secret scanning through the real CLI (click runner) with real detect-secrets, on files written to a temp folder.

The fake secrets are assembled at run time so this file itself holds none (it is scanned with the repository).
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from northstar_secrets.cli import main
from northstar_secrets.plugins import ConfigPasswordDetector, DatabaseUrlPasswordDetector

AWS_KEY = "AKIA" + "Q7ZP3M2X9KD4WB6T"
FAKE_SF = "Sn0w" + "-Pr0d-k7Hq2x"
FAKE_PG = "pG$" + "v9!w2Lq"  # '$' and '!' are delimiters BasicAuthDetector gives up on
SECRETS = (AWS_KEY, FAKE_SF, FAKE_PG)

DAG = f'''from airflow import DAG

AWS_ACCESS_KEY_ID = "{AWS_KEY}"
dag = DAG("orders_daily")
'''
PROFILE = f"""northstar:
  outputs:
    snowflake:
      type: snowflake
      user: "{{{{ env_var('SNOWFLAKE_USER') }}}}"
      password: "{FAKE_SF}"
"""
SAFE_PROFILE = """northstar:
  outputs:
    snowflake:
      type: snowflake
      password: "{{ env_var('SNOWFLAKE_PASSWORD') }}"
      private_key_passphrase: "{{ env_var('SNOWFLAKE_PASSPHRASE', '') }}"
"""
INI = f"[warehouse]\naccount = xy12345\nsnowflake_pw = {FAKE_SF}\nsnowflake_pw_env = SNOWFLAKE_PASSWORD\n"
PG_URL = f'ENGINE_URL = "postgresql://loader:{FAKE_PG}@db.internal:5432/warehouse"\n'


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def scan_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = invoke("scan", "--json", *args)
    return code, json.loads(out)


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "airflow" / "dags").mkdir(parents=True)
    (tmp_path / "dbt").mkdir()
    return tmp_path


def test_fake_aws_key_in_a_dag_is_found_with_file_and_line(repo: Path) -> None:
    (repo / "airflow/dags/orders.py").write_text(DAG)
    code, out = scan_json("airflow/dags/orders.py")
    assert code == 1 and out["status"] == "findings"
    (f,) = (f for f in out["findings"] if f["type"] == "AWS Access Key")
    assert f["file"] == "airflow/dags/orders.py" and f["line"] == 3 and len(f["fingerprint"]) == 16


def test_snowflake_password_in_a_profile_is_found(repo: Path) -> None:
    (repo / "dbt/profiles.yml").write_text(PROFILE)
    code, out = scan_json("dbt/profiles.yml")
    assert code == 1
    assert ("dbt/profiles.yml", 6) in {(f["file"], f["line"]) for f in out["findings"]}


def test_snowflake_pw_key_in_ini_is_found_but_env_name_is_not(repo: Path) -> None:
    (repo / "warehouse.ini").write_text(INI)
    code, out = scan_json("warehouse.ini")
    assert code == 1
    assert {(f["line"], f["type"]) for f in out["findings"]} == {(3, "Password in Config")}


def test_postgres_url_with_password_is_found(repo: Path) -> None:
    (repo / "settings.py").write_text(PG_URL)
    code, out = scan_json("settings.py")
    assert code == 1
    assert {f["type"] for f in out["findings"]} >= {"Database URL Password"}


def test_env_var_references_are_not_flagged(repo: Path) -> None:
    (repo / "dbt/profiles.yml").write_text(SAFE_PROFILE)
    (repo / "conn.py").write_text('import os\nURL = f"postgresql://u:{os.environ[\'PG_PW\']}@h/db"\n'
                                  'URL2 = "postgresql://u:${FAKE_PG}@h/db"\npassword = os.environ["SNOWFLAKE_PASSWORD"]\n')
    code, out = scan_json("dbt/profiles.yml", "conn.py")
    assert code == 0 and out["findings"] == [] and out["files_scanned"] == 2


def test_plugins_directly() -> None:
    url = DatabaseUrlPasswordDetector()
    assert list(url.analyze_string(f"snowflake://etl:{FAKE_SF}@xy12345/db")) == [FAKE_SF]
    assert list(url.analyze_string("snowflake://etl:{{ env_var('X') }}@xy12345/db")) == []
    cfg = ConfigPasswordDetector()
    assert {s.secret_value for s in cfg.analyze_line("p.yml", f"  db_pwd: {FAKE_SF}  # prod")} == {FAKE_SF}
    assert cfg.analyze_line("p.yml", "  password_secret_name: northstar/prod/snowflake") == set()
    assert cfg.analyze_line("x.py", "password = get_password()") == set()
    assert cfg.analyze_line("x.py", "token_ttl = 3600") == set()


def test_baseline_suppresses_a_reviewed_finding_only(repo: Path) -> None:
    (repo / "airflow/dags/orders.py").write_text(DAG)
    (repo / "dbt/profiles.yml").write_text(PROFILE)
    code, out = scan_json("airflow/dags/orders.py", "dbt/profiles.yml")
    assert code == 1
    # A reviewer accepts the DAG finding: detect-secrets baseline format, hashed secret only.
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    from northstar_secrets.scanner import plugin_settings

    with transient_settings(plugin_settings()):
        coll = SecretsCollection()
        coll.scan_file("airflow/dags/orders.py")
        baseline = {"version": "1.5.0", "plugins_used": [], "filters_used": [], "results": coll.json()}
    (repo / ".secrets.baseline").write_text(json.dumps(baseline))
    assert AWS_KEY not in (repo / ".secrets.baseline").read_text()
    code, out = scan_json("--baseline", ".secrets.baseline", "airflow/dags/orders.py")
    assert code == 0 and out["blocking"] == 0 and all(f["baselined"] for f in out["findings"])
    code, out = scan_json("airflow/dags/orders.py", "dbt/profiles.yml")  # ./.secrets.baseline picked up by default
    assert code == 1 and {f["file"] for f in out["findings"] if not f["baselined"]} == {"dbt/profiles.yml"}


def _tarball(path: Path, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_tarball_and_nested_pex_scan(repo: Path) -> None:
    inner = repo / "job.pex"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("northstar_spark/settings.py", PG_URL)
    _tarball(repo / "bundle.tar.gz", {"dags/orders.py": DAG, "dbt/profiles.yml": SAFE_PROFILE, "job.pex": ""})
    code, out, _ = invoke("scan-archive", "--json", "bundle.tar.gz")
    data = json.loads(out)
    assert code == 1 and {f["file"] for f in data["findings"]} == {"bundle.tar.gz!dags/orders.py"}
    assert data["files_scanned"] == 3
    with tarfile.open(repo / "release.tar", "w") as tf:
        tf.add(inner, arcname="artifacts/job.pex")
    code, out, _ = invoke("scan-archive", "--json", "release.tar")
    assert code == 1
    assert {f["file"] for f in json.loads(out)["findings"]} == {"release.tar!artifacts/job.pex!northstar_spark/settings.py"}
    _tarball(repo / "clean.tgz", {"dbt/profiles.yml": SAFE_PROFILE})
    assert invoke("scan-archive", "clean.tgz")[0] == 0


def test_bad_input_exits_2(repo: Path) -> None:
    code, out, err = invoke("scan", "--json", "missing.py")
    assert code == 2 and "missing.py" in json.loads(out)["error"]
    (repo / "bad.baseline").write_text("{not json")
    (repo / "a.py").write_text("x = 1\n")
    code, _, err = invoke("scan", "--baseline", "bad.baseline", "a.py")
    assert code == 2 and "bad.baseline" in err
    (repo / "notes.txt").write_text("hello")
    code, _, err = invoke("scan-archive", "notes.txt")
    assert code == 2 and "not a tar or zip" in err


def test_a_folder_is_scanned_and_clean_files_exit_0(repo: Path) -> None:
    (repo / "dbt/profiles.yml").write_text(SAFE_PROFILE)
    (repo / "airflow/dags/ok.py").write_text("x = 1\n")
    code, out = scan_json(".")
    assert code == 0 and out["files_scanned"] == 2
    (repo / "airflow/dags/orders.py").write_text(DAG)
    assert scan_json(".")[0] == 1


def test_secret_values_appear_in_no_output_or_log(repo: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    (repo / "airflow/dags/orders.py").write_text(DAG)
    (repo / "dbt/profiles.yml").write_text(PROFILE)
    (repo / "settings.py").write_text(PG_URL)
    (repo / "warehouse.ini").write_text(INI)
    _tarball(repo / "bundle.tar.gz", {"a/orders.py": DAG, "a/profiles.yml": PROFILE, "a/settings.py": PG_URL})
    outputs = []
    for args in (("scan", "--json", "."), ("scan", "."), ("scan-archive", "--json", "bundle.tar.gz"), ("scan-archive", "bundle.tar.gz")):
        code, out, err = invoke(*args)
        assert code == 1
        outputs += [out, err]
    captured = capfd.readouterr()
    everything = "\n".join([*outputs, captured.out, captured.err, caplog.text])
    assert "orders.py" in everything  # the findings are there ...
    for secret in SECRETS:
        assert secret not in everything  # ... their values are not
