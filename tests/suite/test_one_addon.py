"""One addon per client: `retail_connect_base` with any one platform addon
installs alone in a fresh database, no platform addon depends on another, and
uninstalling the platform leaves nothing of it (models and their tables, menus,
crons, queue job functions and channels, the backends of its platform,
ir.model.data of the module).

Each platform is installed into a copy of a database holding only the Odoo
addons the suite depends on (built once per Odoo build, like the templates of
`make test`), on the PostgreSQL server that `make test` started.
"""

import ast
import json
import os
import subprocess

import devenv
import pytest

PLATFORMS = [a for a in devenv.SUITE_ADDONS if a != "retail_connect_base"]
SCRIPT = devenv.ROOT / "tests" / "suite" / "addon_lifecycle.py"


def manifest(addon):
    return ast.literal_eval((devenv.ROOT / addon / "__manifest__.py").read_text())


def suite_closure(addon):
    """The suite addons `addon` needs, itself included (transitively)."""
    seen, todo = set(), [addon]
    while todo:
        name = todo.pop()
        if name in seen or name not in devenv.SUITE_ADDONS:
            continue
        seen.add(name)
        todo.extend(manifest(name).get("depends", []))
    return seen


@pytest.mark.parametrize("addon", PLATFORMS)
def test_no_platform_depends_on_another(addon):
    assert suite_closure(addon) == {"retail_connect_base", addon}


@pytest.fixture(scope="module")
def pg():
    server = devenv.Postgres()
    if not server.is_ready():
        pytest.skip(
            f"no PostgreSQL on {server.host}:{server.port}: run through `make test`"
        )
    return server


@pytest.fixture(scope="module")
def deps_template(pg):
    return devenv.deps_template_db(pg)


def odoo(config, db, *args, command=None, stdin=None, env=None):
    argv = devenv.odoo_cmd(config, "-d", db, "--log-level=warn", *args)
    if command:  # odoo's subcommand comes before its options
        argv.insert(2, command)
    proc = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def phase(config, db, addon, name, snapshot):
    env = dict(os.environ, RC_ADDON=addon, RC_PHASE=name, RC_SNAPSHOT=str(snapshot))
    script = SCRIPT.read_text()
    out = odoo(config, db, "--no-http", command="shell", stdin=script, env=env)
    lines = [line for line in out.splitlines() if line.startswith("RC_RESULT ")]
    assert lines, out[-3000:]
    return json.loads(lines[-1][len("RC_RESULT ") :])


@pytest.mark.parametrize("addon", PLATFORMS)
def test_platform_installs_alone_and_uninstalls_cleanly(
    addon, pg, deps_template, tmp_path
):
    db = f"rc_one_{addon.removeprefix('retail_connect_')}_{os.getpid()}"
    config = devenv.write_config(pg, f"one-{os.getpid()}", with_tests=False)
    devenv.fresh_db(pg, deps_template, db)
    try:
        odoo(config, db, "-i", addon, "--without-demo=all", "--stop-after-init")
        snapshot = tmp_path / "snapshot.json"
        before = phase(config, db, addon, "install", snapshot)
        snapshot.write_text(json.dumps(before))
        assert before["installed"] == sorted({"retail_connect_base", addon})
        uninstalled = phase(config, db, addon, "uninstall", snapshot)
        assert uninstalled["state"] == "uninstalled"
        after = phase(config, db, addon, "check", snapshot)
        leftovers = {
            key: value
            for key, value in after.items()
            if key not in ("state",) and value
        }
        assert after["state"] == "uninstalled"
        assert not leftovers, f"{addon} left behind: {leftovers} (before: {before})"
    finally:
        pg.drop(db)
        devenv.drop_filestore(db)
