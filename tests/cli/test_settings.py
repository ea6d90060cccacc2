"""Settings from flags, ANAPLAN_* variables and profile files."""

from __future__ import annotations

from pathlib import Path

import pytest

from anaplan_tasks.cli.exit_codes import ExitCode
from anaplan_tasks.cli.settings import Settings, client_config, load_profile
from anaplan_tasks.emulator.demo import DEV_MODEL, PROD_MODEL
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle
from anaplan_tasks.errors import ConfigurationError

from .conftest import Cli


def _profiles(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_flags_beat_variables_beat_the_profile(tmp_path: Path) -> None:
    path = _profiles(
        tmp_path,
        '[default]\nbase_url = "http://profile:1"\nmodel = "From Profile"\n'
        'email = "p@example.com"\npassword = "p"\nworkspace = "W"\n',
    )
    environ = {"ANAPLAN_PROFILE_FILE": str(path), "ANAPLAN_MODEL_ID": "From Env"}
    config = client_config(Settings(), environ)
    assert config.api_base_url == "http://profile:1/2/0"
    assert config.model_id == "From Env"
    assert config.workspace_id == "W"
    flagged = client_config(Settings(model="From Flag", base_url="http://flag:2"), environ)
    assert flagged.model_id == "From Flag"
    assert flagged.api_base_url == "http://flag:2/2/0"


def test_secrets_can_come_from_a_named_variable(tmp_path: Path) -> None:
    path = _profiles(tmp_path, '[prod]\nemail = "a@b.c"\npassword_env = "PROD_SECRET"\n')
    variables = load_profile("prod", path, {"PROD_SECRET": "s3cret"})
    assert variables == {"ANAPLAN_EMAIL": "a@b.c", "ANAPLAN_PASSWORD": "s3cret"}


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("[default]\nemial = 'x'\n", None, "unknown key 'emial'"),
        ("[default\n", None, "is not valid TOML"),
        ("[dev]\nemail = 'x'\n", "prod", "profile 'prod' is not in"),
    ],
)
def test_bad_profiles_say_what_is_wrong(
    tmp_path: Path, text: str, name: str | None, message: str
) -> None:
    path = _profiles(tmp_path, text)
    with pytest.raises(ConfigurationError, match=message):
        load_profile(name, path, {})


def test_no_credentials_names_the_flags(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--email and --password"):
        client_config(Settings(), {"XDG_CONFIG_HOME": str(tmp_path)})


def test_a_profile_drives_a_real_command(
    cli: Cli, cli_env: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANAPLAN_BASE_URL", "ANAPLAN_EMAIL", "ANAPLAN_PASSWORD", "ANAPLAN_MODEL_ID"):
        monkeypatch.delenv(name)
    path = _profiles(
        tmp_path,
        f'[emulator]\nbase_url = "{cli_env.base_url}"\nemail = "{cli_env.email}"\n'
        f'password = "{cli_env.password}"\nmodel = "{PROD_MODEL}"\n',
    )
    outcome = cli("--profile-file", path, "--profile", "emulator", "imports", "--json")
    assert outcome.code == ExitCode.OK, outcome.err
    assert "Load Employees" in [item["name"] for item in outcome.json()]
    dev = cli("--profile-file", path, "--profile", "emulator", "-m", DEV_MODEL, "files")
    assert dev.code == ExitCode.OK, dev.err
    missing = cli("--profile-file", path, "--profile", "staging", "files")
    assert missing.code == ExitCode.USAGE
    assert "profiles there: emulator" in missing.error
