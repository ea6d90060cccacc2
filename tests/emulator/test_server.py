"""Starting the emulator: in-process (`run_emulator`) and as `python -m anaplan_tasks.emulator`."""

from __future__ import annotations

import base64
import signal
from pathlib import Path

import httpx2
import pytest

from anaplan_tasks.emulator.__main__ import main, parse_arguments
from anaplan_tasks.emulator.server import _is_loopback, default_data_dir, run_emulator, serve

from .subprocess_server import EmulatorProcess

BASIC = {"Authorization": "Basic " + base64.b64encode(b"demo@example.com:demo").decode()}


def test_run_emulator_serves_on_a_free_port_and_stops() -> None:
    with run_emulator(demo=True) as emulator, run_emulator(demo=True) as other:
        assert emulator.port != other.port
        assert emulator.base_url == f"http://127.0.0.1:{emulator.port}"
        response = httpx2.post(f"{emulator.base_url}/token/authenticate", headers=BASIC)
        assert response.status_code == 201
        token = response.json()["tokenInfo"]["tokenValue"]
        me = httpx2.get(
            f"{emulator.base_url}/2/0/users/me",
            headers={"Authorization": f"AnaplanAuthToken {token}"},
        )
        assert me.json()["user"]["email"] == "demo@example.com"
        # Tokens belong to one emulator.
        elsewhere = httpx2.get(
            f"{other.base_url}/2/0/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert elsewhere.status_code == 401
        url = emulator.base_url
    with pytest.raises(httpx2.TransportError):
        httpx2.get(f"{url}/_emulator/health", timeout=5)


def test_run_emulator_keeps_data_in_a_directory(tmp_path: Path) -> None:
    with run_emulator(demo=True, data_dir=tmp_path) as emulator:
        token = httpx2.post(f"{emulator.base_url}/token/authenticate", headers=BASIC).json()
        headers = {"Authorization": f"AnaplanAuthToken {token['tokenInfo']['tokenValue']}"}
        model_id = _dev_model(emulator.base_url, headers)
        created = httpx2.post(
            f"{emulator.base_url}/2/0/models/{model_id}/files/kept.csv",
            json={"chunkCount": 1},
            headers=headers,
        )
        assert created.status_code == 200, created.text
    assert any(tmp_path.iterdir())
    with run_emulator(demo=True, data_dir=tmp_path) as emulator:
        token = httpx2.post(f"{emulator.base_url}/token/authenticate", headers=BASIC).json()
        headers = {"Authorization": f"AnaplanAuthToken {token['tokenInfo']['tokenValue']}"}
        model_id = _dev_model(emulator.base_url, headers)
        files = httpx2.get(f"{emulator.base_url}/2/0/models/{model_id}/files", headers=headers)
        assert "kept.csv" in [f["name"] for f in files.json()["files"]]


def _dev_model(base_url: str, headers: dict[str, str]) -> str:
    models = httpx2.get(f"{base_url}/2/0/models", headers=headers).json()["models"]
    model_id: str = next(m["id"] for m in models if m["name"] == "FP&A Dev")
    return model_id


def test_command_line_defaults() -> None:
    arguments = parse_arguments([])
    assert arguments.host == "127.0.0.1"
    assert arguments.port == 8080
    assert arguments.data is None
    assert arguments.memory is False
    assert arguments.token_lifetime == 35 * 60
    assert default_data_dir().name == "emulator"


def test_command_line_options(tmp_path: Path) -> None:
    definition = tmp_path / "model.toml"
    definition.write_text("")
    arguments = parse_arguments(
        [
            "--host",
            "::1",
            "--port",
            "0",
            "--data",
            str(tmp_path),
            "--demo",
            "--definition",
            str(definition),
            "--definition",
            str(definition),
            "--token-lifetime",
            "5",
        ]
    )
    assert arguments.host == "::1"
    assert arguments.port == 0
    assert arguments.data == tmp_path
    assert arguments.demo is True
    assert arguments.definition == [definition, definition]
    assert arguments.token_lifetime == 5.0


@pytest.mark.parametrize(
    "argv",
    [
        ["--memory", "--data", "x"],
        ["--token-lifetime", "0"],
        ["--port", "70000"],
        ["--definition", "/no/such/file.toml"],
        ["--port", "eighty"],
    ],
)
def test_command_line_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_a_broken_definition_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[workspaces]]\nnmae = 'typo'\n")
    assert main(["--memory", "--port", "0", "--definition", str(broken)]) == 2
    error = capsys.readouterr().err
    assert str(broken) in error
    assert "workspaces[0]" in error


def test_definition_files_may_use_users_declared_before_them(tmp_path: Path) -> None:
    people = tmp_path / "people.toml"
    people.write_text('[[users]]\nemail = "ana@example.com"\npassword = "secret"\n')
    team = tmp_path / "team.toml"
    team.write_text(
        '[[workspaces]]\nname = "Team"\nadmins = ["ana@example.com"]\n'
        'users = ["demo@example.com"]\n[[workspaces.models]]\nname = "Scratch"\n'
    )
    with run_emulator(demo=True, definitions=[people, team]) as emulator:
        for credentials in (b"ana@example.com:secret", b"demo@example.com:demo"):
            basic = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
            login = httpx2.post(f"{emulator.base_url}/token/authenticate", headers=basic)
            token = login.json()["tokenInfo"]["tokenValue"]
            workspaces = httpx2.get(
                f"{emulator.base_url}/2/0/workspaces",
                headers={"Authorization": f"AnaplanAuthToken {token}"},
            ).json()["workspaces"]
            assert "Team" in {workspace["name"] for workspace in workspaces}
    # Order matters: a file cannot grant to a user only a later file declares.
    assert (
        main(["--memory", "--port", "0", "--definition", str(team), "--definition", str(people)])
        == 2
    )


def test_loopback_detection_and_nothing_announced_before_bind() -> None:
    # The warning for non-loopback hosts is not exercised: tests bind 127.0.0.1 only.
    lines: list[str] = []
    with pytest.raises(OSError):  # an address this machine does not have: bind fails after
        serve(host="192.0.2.1", port=0, memory=True, announce=lines.append)
    assert lines == []  # nothing is announced before the socket is bound
    assert not _is_loopback("0.0.0.0")
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert _is_loopback("localhost")


def test_a_port_in_use_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with run_emulator() as emulator:
        assert main(["--memory", "--port", str(emulator.port)]) == 1
    assert "error" in capsys.readouterr().err


@pytest.mark.slow
def test_the_module_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    server = EmulatorProcess(["--data", str(tmp_path / "data"), "--demo"])
    try:
        assert httpx2.get(f"{server.base_url}/_emulator/health").status_code == 200
        response = httpx2.post(f"{server.base_url}/token/authenticate", headers=BASIC)
        assert response.status_code == 201
        token = response.json()["tokenInfo"]["tokenValue"]
        me = httpx2.get(
            f"{server.base_url}/2/0/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == 200
        log = server.log_text()
        assert "/2/0/users/me" in log  # the access log is on ...
        assert token not in log  # ... and never shows a token or a password
        assert BASIC["Authorization"].split()[1] not in log
    finally:
        status = server.terminate()
    assert status in (0, -signal.SIGTERM)
    assert (tmp_path / "data").is_dir()
