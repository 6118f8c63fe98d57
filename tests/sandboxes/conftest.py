"""The sandbox tests are plain pytest: no Odoo database or registry.

pytest-odoo, when installed, adds autouse fixtures that load an Odoo registry;
these same-named fixtures replace them for the tests of this directory only.
"""

import pytest


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(scope="module", autouse=True)
def enable_odoo_test_flag():
    yield
