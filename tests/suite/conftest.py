"""Tests of the suite as a whole (prerequisite checks, one addon per client,
upgrades): plain pytest, no registry of the test database.

pytest-odoo, when installed, adds autouse fixtures that load an Odoo registry;
these same-named fixtures replace them for the tests of this directory only.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(scope="module", autouse=True)
def enable_odoo_test_flag():
    yield
