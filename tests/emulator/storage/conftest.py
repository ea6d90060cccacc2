"""Let pytest explain failed assertions of the shared store contract."""

import pytest

pytest.register_assert_rewrite("tests.emulator.storage.contract")
