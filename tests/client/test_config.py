"""Settings resolve from arguments, then ANAPLAN_* variables, then defaults, in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from anaplan_tasks._core.auth import BasicCredentials, CertificateCredentials, TokenCredentials
from anaplan_tasks.client import Client, ClientConfig, PollPolicy
from anaplan_tasks.errors import ConfigurationError


def test_defaults_point_at_anaplan() -> None:
    config = ClientConfig.resolve(token="t", env={})
    assert config.api_base_url == "https://api.anaplan.com/2/0"
    assert config.auth_base_url == "https://auth.anaplan.com"
    assert config.chunk_size == 10_000_000
    assert isinstance(config.credentials, TokenCredentials)


def test_one_setting_points_at_the_emulator() -> None:
    config = ClientConfig.resolve(token="t", base_url="http://127.0.0.1:8080/", env={})
    assert config.api_base_url == "http://127.0.0.1:8080/2/0"
    assert config.auth_base_url == "http://127.0.0.1:8080"


def test_environment_fills_what_arguments_leave_out() -> None:
    env = {
        "ANAPLAN_EMAIL": "ops@example.com",
        "ANAPLAN_PASSWORD": "pw",
        "ANAPLAN_WORKSPACE_ID": "ws-env",
        "ANAPLAN_MODEL_ID": "M-ENV",
        "ANAPLAN_BASE_URL": "http://localhost:9",
        "ANAPLAN_AUTH_BASE_URL": "http://auth.local",
        "ANAPLAN_TIMEOUT": "12.5",
    }
    config = ClientConfig.resolve(model_id="M-ARG", env=env)
    assert config.credentials == BasicCredentials("ops@example.com", "pw")
    assert (config.workspace_id, config.model_id) == ("ws-env", "M-ARG")
    assert config.api_base_url == "http://localhost:9/2/0"
    assert config.auth_base_url == "http://auth.local"
    assert config.timeout == 12.5


def test_certificate_paths_are_read(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_bytes(b"CERT")
    (tmp_path / "key.pem").write_bytes(b"KEY")
    config = ClientConfig.resolve(
        certificate=tmp_path / "cert.pem", private_key=tmp_path / "key.pem", env={}
    )
    assert config.credentials == CertificateCredentials(b"CERT", b"KEY")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "no credentials"),
        ({"email": "a@b"}, "both email= and password="),
        ({"certificate": "c.pem"}, "both certificate= and private_key="),
        ({"certificate": "/nonexistent/c", "private_key": "/nonexistent/k"}, "cannot read"),
        ({"token": "t", "chunk_size": 10}, "chunk_size"),
        ({"token": "t", "upload_workers": 0}, "upload_workers"),
        ({"token": "t", "env": {"ANAPLAN_TIMEOUT": "soon"}}, "ANAPLAN_TIMEOUT"),
    ],
)
def test_bad_settings_say_what_is_wrong(settings: dict[str, object], message: str) -> None:
    settings.setdefault("env", {})
    with pytest.raises(ConfigurationError, match=message):
        ClientConfig.resolve(**settings)  # type: ignore[arg-type]


def test_secrets_stay_out_of_reprs() -> None:
    config = ClientConfig.resolve(email="a@b", password="hunter2", env={})
    assert "hunter2" not in repr(config)
    with Client(config=config) as client:
        assert repr(client) == (
            "Client(api_base_url='https://api.anaplan.com/2/0', workspace_id=None, model_id=None)"
        )


def test_copies_change_settings_and_share_the_session() -> None:
    with Client(token="t", workspace_id="ws", model_id="M1", env={}) as client:
        other = client.with_model("M2")
        tuned = client.with_options(poll=PollPolicy(min_interval=10.0))
        assert other.config.model_id == "M2"
        assert other.config.workspace_id == "ws"
        assert tuned.config.poll.min_interval == 10.0
        assert client.config.model_id == "M1"
        assert other._session is client._session
        other.close()
        tuned.close()
        assert not client._session.state.closed
        with pytest.raises(ConfigurationError, match="unknown client option"):
            client.with_options(colour="blue")
    assert client._session.state.closed


def test_model_scoped_calls_need_a_model() -> None:
    with (
        Client(token="t", env={}) as client,
        pytest.raises(ConfigurationError, match="workspace and a model"),
    ):
        client.files.list()
