"""`voltgate telemetry ca init|issue|server`: the CA lands in the data directory (or --dir),
certificates and 0600 keys in --out, and mistakes are one clear line, not a traceback."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from voltgate.cli.main import app
from voltgate.fleettelemetry.ca import client_context, server_context

VIN = "5YJ3E1EA7KF000001"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOLTGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("VOLTGATE_TELEMETRY_CA_DIR", raising=False)
    monkeypatch.delenv("VOLTGATE_MASTER_KEY", raising=False)
    return tmp_path / "data"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["telemetry", "ca", *args])
    assert "Traceback" not in result.output
    # rich wraps long lines; JSON and the messages checked here survive joining them again
    return result.exit_code, " ".join(result.output.split())


def test_init_issue_and_server_make_a_working_set(data_dir: Path, tmp_path: Path) -> None:
    code, output = _run("init", "--json")
    assert code == 0, output
    made = orjson.loads(output)
    assert made["dir"] == str(data_dir / "telemetry-ca")
    assert stat.S_IMODE((data_dir / "telemetry-ca" / "ca.key").stat().st_mode) == 0o600

    out = tmp_path / "out"
    code, output = _run("issue", VIN.lower(), "--out", str(out), "--json")
    assert code == 0, output
    issued = orjson.loads(output)
    assert issued == {
        "subject": VIN,
        "cert": str(out / f"{VIN}.pem"),
        "key": str(out / f"{VIN}.key"),
        "ca": made["ca"],
    }
    assert stat.S_IMODE(Path(issued["key"]).stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(Path(issued["cert"]).read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == VIN

    code, output = _run("server", "telemetry.example.test", "--out", str(out))
    assert code == 0, output
    ca_pem = Path(made["ca"]).read_bytes()
    server_context(
        ca_pem,
        (out / "telemetry.example.test.pem").read_bytes(),
        (out / "telemetry.example.test.key").read_bytes(),
    )
    client_context(ca_pem, Path(issued["cert"]).read_bytes(), Path(issued["key"]).read_bytes())


def test_dir_and_the_setting_choose_where_the_ca_lives(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert _run("init", "--dir", str(elsewhere))[0] == 0
    assert (elsewhere / "ca.pem").exists() and not (data_dir / "telemetry-ca").exists()
    code, output = _run("issue", VIN, "--out", str(tmp_path / "o1"))
    assert code == 1 and "no CA in" in output
    assert _run("issue", VIN, "--dir", str(elsewhere), "--out", str(tmp_path / "o1"))[0] == 0
    monkeypatch.setenv("VOLTGATE_TELEMETRY_CA_DIR", str(elsewhere))
    assert _run("server", "10.1.2.3", "--out", str(tmp_path / "o2"))[0] == 0
    assert (tmp_path / "o2" / "10.1.2.3.key").exists()


def test_mistakes_are_one_clear_line(data_dir: Path, tmp_path: Path) -> None:
    assert _run("init")[0] == 0
    code, output = _run("init")
    assert code == 1 and "a CA already exists" in output
    code, output = _run("issue", "NOT-A-VIN", "--out", str(tmp_path))
    assert code == 1 and "is not a VIN" in output
    code, output = _run("server", "../escape", "--out", str(tmp_path))
    assert code == 1 and "is not a host name" in output
    assert _run("issue", VIN, "--out", str(tmp_path))[0] == 0
    code, output = _run("issue", VIN, "--out", str(tmp_path))
    assert code == 1 and "exists already" in output


def test_a_changed_master_key_is_refused_by_name(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run("init")[0] == 0
    monkeypatch.setenv("VOLTGATE_MASTER_KEY", "A" * 43)
    code, output = _run("issue", VIN, "--out", str(tmp_path))
    assert code == 1 and "another master key" in output
