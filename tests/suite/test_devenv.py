"""`make test`, `make demo` and `make bench` name the README step that fixes a
missing prerequisite (tools/devenv.py): checked against a PATH without the
binaries and interpreters that cannot import Odoo, or only a partial Odoo."""

import subprocess
import sys

import devenv
import pytest


@pytest.fixture
def bare_path(tmp_path, monkeypatch):
    """A PATH holding only what a test puts there, and no Debian PG folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(devenv, "PG_DEBIAN_DIR", tmp_path / "no-postgresql")
    return bin_dir


def put(bin_dir, *names):
    for name in names:
        path = bin_dir / name
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)


def test_postgres_binaries_missing_name_step_1(bare_path):
    with pytest.raises(devenv.Missing) as missing:
        devenv.check_postgres(external=False)
    assert missing.value.step == 1
    assert "initdb" in str(missing.value) and "Step 1" in str(missing.value)
    put(bare_path, *devenv.PG_SERVER_BINARIES)
    devenv.check_postgres(external=False)


def test_debian_layout_of_postgres_is_found(bare_path, tmp_path, monkeypatch):
    debian = tmp_path / "postgresql"
    (debian / "15" / "bin").mkdir(parents=True)
    put(debian / "15" / "bin", *devenv.PG_SERVER_BINARIES)
    monkeypatch.setattr(devenv, "PG_DEBIAN_DIR", debian)
    devenv.check_postgres(external=False)
    assert devenv.find_pg_bin("initdb") == str(debian / "15" / "bin" / "initdb")


def test_external_server_needs_only_the_client(bare_path):
    put(bare_path, *devenv.PG_CLIENT_BINARIES)
    devenv.check_postgres(external=True)
    with pytest.raises(devenv.Missing, match="initdb"):
        devenv.check_postgres(external=False)


def test_wrk_missing_for_bench(bare_path):
    with pytest.raises(devenv.Missing, match="wrk") as missing:
        devenv.check_wrk()
    assert missing.value.step == 1
    put(bare_path, "wrk")
    devenv.check_wrk()


def test_chromium_missing_says_browser_tests_are_skipped(bare_path, capsys):
    with pytest.raises(devenv.Missing, match="browser tests will be skipped"):
        devenv.check_chromium()
    devenv.note_chromium()  # a note, never a failure
    assert "skipped" in capsys.readouterr().out
    put(bare_path, "chromium")
    devenv.check_chromium()


def test_check_command_fails_only_on_needed_pieces(bare_path, monkeypatch):
    monkeypatch.setattr(devenv, "probe_odoo", lambda: {"version": "18.0", "odoo": "x"})
    monkeypatch.setattr(devenv, "check_queue_job", lambda: None)
    put(bare_path, *devenv.PG_SERVER_BINARIES)
    parser_args = type("Args", (), {"bench": False})
    assert devenv.cmd_check(parser_args) == 0  # no wrk, no chromium: fine
    parser_args.bench = True
    assert devenv.cmd_check(parser_args) == 1  # make bench needs wrk
    put(bare_path, "wrk")
    assert devenv.cmd_check(parser_args) == 0


def test_check_before_make_deps_does_not_fail_on_queue_job(bare_path, monkeypatch):
    """CI runs `devenv.py check` on a fresh machine before `make test` installs
    the suite's dependencies (queue_job among them)."""

    def no_queue_job():
        raise devenv.Missing("OCA's queue_job addon is not installed.", 5)

    monkeypatch.setattr(devenv, "probe_odoo", lambda: {"version": "18.0", "odoo": "x"})
    monkeypatch.setattr(devenv, "check_queue_job", no_queue_job)
    put(bare_path, *devenv.PG_SERVER_BINARIES)
    assert devenv.cmd_check(type("Args", (), {"bench": False})) == 0


# ------------------------------------------------------------------- odoo
NO_SITE = [sys.executable, "-S"]  # no site-packages, no .pth: only PYTHONPATH


def fake_odoo(root, serie="18.0", first_line=""):
    """An importable `odoo` package with only the `base` addon in odoo/addons."""
    pkg = root / "odoo"
    (pkg / "addons" / "base").mkdir(parents=True)
    (pkg / "__init__.py").write_text(first_line + "\n")
    (pkg / "release.py").write_text(f"serie = {serie!r}\nversion = '{serie}-test'\n")
    (pkg / "addons" / "__init__.py").write_text(
        "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
    )
    (pkg / "addons" / "base" / "__manifest__.py").write_text("{}\n")
    return root


def test_odoo_not_importable_names_step_3(tmp_path):
    with pytest.raises(devenv.Missing, match="No module named 'odoo'") as missing:
        devenv.probe_odoo(NO_SITE, env={"PATH": "/usr/bin:/bin"})
    assert missing.value.step == 3


def test_odoo_requirement_missing_names_step_4(tmp_path):
    fake_odoo(tmp_path, first_line="import psycopg2_not_installed_here")
    with pytest.raises(devenv.Missing, match="psycopg2_not_installed") as missing:
        devenv.probe_odoo(NO_SITE, env={"PYTHONPATH": str(tmp_path)})
    assert missing.value.step == 4


def test_other_odoo_version_refused(tmp_path):
    fake_odoo(tmp_path, serie="17.0")
    with pytest.raises(devenv.Missing, match="not 18.0"):
        devenv.probe_odoo(NO_SITE, env={"PYTHONPATH": str(tmp_path)})


def test_odoo_without_its_addons_then_git_layout(tmp_path):
    fake_odoo(tmp_path)
    env = {"PYTHONPATH": str(tmp_path)}
    with pytest.raises(devenv.Missing) as missing:
        devenv.probe_odoo(NO_SITE, env=env)
    assert missing.value.step == 3
    assert "sale_stock" in str(missing.value)
    # a checkout of the 18.0 branch: Odoo's addons in addons/ beside odoo/
    for name in devenv.suite_odoo_dependencies():
        (tmp_path / "addons" / name).mkdir(parents=True)
        (tmp_path / "addons" / name / "__manifest__.py").write_text("{}\n")
    info = devenv.probe_odoo(NO_SITE, env=env)
    assert devenv.odoo_addons_dirs(info) == [str(tmp_path / "addons")]


def test_this_machine_passes_every_needed_check():
    """What `make test` itself relies on (a sanity check of the probe)."""
    info = devenv.probe_odoo()
    assert info["serie"] == "18.0"
    proc = subprocess.run(
        [sys.executable, str(devenv.ROOT / "tools" / "devenv.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
