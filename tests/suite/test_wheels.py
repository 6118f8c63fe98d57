"""Each addon is a wheel: `pip wheel <addon folder>` builds
`odoo-addon-retail_connect_*` (OCA's whool backend, pyproject.toml per addon)
declaring what it needs: the base, never another platform."""

import email
import subprocess
import sys
import zipfile

import devenv
import pytest

whool = pytest.importorskip("whool", reason="whool is in requirements.txt: make deps")


def requirements(wheel):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(name))
    return metadata["Name"], sorted(metadata.get_all("Requires-Dist") or [])


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheels")
    built = {}
    for addon in devenv.SUITE_ADDONS:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps"]
            + ["--no-build-isolation", "-w", str(out), str(devenv.ROOT / addon)],
            check=True,
        )
        (wheel,) = out.glob(f"odoo_addon_{addon}-18.0.*.whl")
        built[addon] = requirements(wheel)
    return built


def test_base_wheel_declares_its_dependencies(wheels):
    name, requires = wheels["retail_connect_base"]
    assert name == "odoo-addon-retail_connect_base"
    for needed in ("odoo==18.0.*", "odoo-addon-queue_job==18.0.*", "cryptography"):
        assert needed in requires
    assert "phonenumbers" in requires and "requests" in requires


@pytest.mark.parametrize(
    "addon", [a for a in devenv.SUITE_ADDONS if a != "retail_connect_base"]
)
def test_platform_wheel_needs_the_base_and_no_other_platform(wheels, addon):
    name, requires = wheels[addon]
    assert name == f"odoo-addon-{addon}"
    assert "odoo-addon-retail_connect_base==18.0.*" in requires
    suite = [r for r in requires if r.startswith("odoo-addon-retail_connect")]
    assert suite == ["odoo-addon-retail_connect_base==18.0.*"]
