"""Settings for the whole suite."""

from __future__ import annotations

import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Give Ctrl-C back to the processes the tests start.

    A shell without job control starts background commands with SIGINT ignored, and an ignored
    signal stays ignored across exec: the CLI subprocesses that tests interrupt would never see
    their Ctrl-C. Python's own handler here means their SIGINT is the default again.
    """
    del config
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
