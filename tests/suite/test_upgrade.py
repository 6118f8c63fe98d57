"""Upgrades: a database built from the last released version of the suite
(``git archive RELEASE_TAG``) is upgraded with ``-u`` to the working tree, and
its backends, secrets (still decryptable), bindings, events and exceptions
survive. Skipped, saying why, while the tag does not exist.
"""

import json
import os
import subprocess
import tarfile

import devenv
import pytest

# The last released version of the suite: the tag put on main for a release
# (annotated, "v" + the addons' version). Move it to the next tag with each
# release, and record what changed in CHANGELOG.md.
RELEASE_TAG = "v18.0.1.0.0"
SCRIPT = devenv.ROOT / "tests" / "suite" / "upgrade_data.py"


def git(*args):
    return subprocess.run(
        ["git", "-C", str(devenv.ROOT), *args],
        capture_output=True,
        check=False,
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The suite's addons as released, extracted from the tag."""
    if git("rev-parse", "-q", "--verify", f"refs/tags/{RELEASE_TAG}").returncode:
        pytest.skip(
            f"no git tag {RELEASE_TAG} (the last release) in this clone: nothing "
            "to upgrade from (git fetch --tags, or the first release is not tagged)"
        )
    out = tmp_path_factory.mktemp("release")
    archive = git("archive", "--format=tar", RELEASE_TAG)
    assert archive.returncode == 0, archive.stderr
    tar = out / "release.tar"
    tar.write_bytes(archive.stdout)
    with tarfile.open(tar) as handle:
        handle.extractall(out / "src", filter="data")
    return out / "src"


@pytest.fixture(scope="module")
def pg():
    server = devenv.Postgres()
    if not server.is_ready():
        pytest.skip(
            f"no PostgreSQL on {server.host}:{server.port}: run through `make test`"
        )
    return server


def config_for(pg, name, root):
    """An Odoo configuration whose addons path starts with ``root``'s suite."""
    path = devenv.write_config(pg, name, with_tests=False)
    text = path.read_text().replace(
        f"addons_path = {devenv.ROOT}", f"addons_path = {root}", 1
    )
    path.write_text(text)
    return path


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
        cwd="/",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def shell(config, db, **env):
    out = odoo(
        config,
        db,
        "--no-http",
        command="shell",
        stdin=SCRIPT.read_text(),
        env=dict(os.environ, **env),
    )
    lines = [line for line in out.splitlines() if line.startswith("RC_RESULT ")]
    assert lines, out[-3000:]
    return json.loads(lines[-1][len("RC_RESULT ") :])


def test_release_upgrades_to_the_working_tree(release, pg):
    released = [a for a in devenv.SUITE_ADDONS if (release / a).is_dir()]
    assert "retail_connect_shopify" in released
    db = f"rc_upgrade_{os.getpid()}"
    old = config_for(pg, f"upgrade-old-{os.getpid()}", release)
    new = devenv.write_config(pg, f"upgrade-new-{os.getpid()}", with_tests=False)
    devenv.fresh_db(pg, devenv.deps_template_db(pg), db)
    try:
        odoo(
            old, db, "-i", ",".join(released), "--without-demo=all", "--stop-after-init"
        )
        seeded = shell(old, db, RC_PHASE="seed")
        before = seeded["state"]
        assert before["secrets"] == ["shpat_upgrade_check", "whsec_upgrade_check"]
        odoo(new, db, "-u", ",".join(devenv.SUITE_ADDONS), "--stop-after-init")
        after = shell(new, db, RC_PHASE="check", RC_IDS=json.dumps(seeded["ids"]))
        assert after["state"] == before
    finally:
        pg.drop(db)
        devenv.drop_filestore(db)
