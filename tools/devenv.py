#!/usr/bin/env python3
"""One entry point for the suite's developer commands: test, demo, bench helpers.

``make test`` and ``make demo`` call this script. It owns the parts every command
shares: checking that Odoo 18.0 is importable, finding or starting PostgreSQL,
writing an Odoo configuration, and building (or reusing) a template database with
every suite addon installed.

Nothing here knows a path of a particular machine: the cache lives under
``$RC_CACHE`` (default ``~/.cache/retail_connect``), and an existing PostgreSQL is
used when ``RC_DB_HOST`` (with ``RC_DB_PORT``, ``RC_DB_USER``, ``RC_DB_PASSWORD``)
says where it is.
"""

import argparse
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("RC_CACHE", Path.home() / ".cache" / "retail_connect"))
PG_SYSTEM_USER = os.environ.get("RC_PG_SYSTEM_USER", "rcpg")
DB_USER = "rc_odoo"  # Odoo refuses to connect as "postgres"
SUITE_ADDONS = [
    "retail_connect_base",
    "retail_connect_shopify",
    "retail_connect_stripe",
    "retail_connect_amazon",
    "retail_connect_3pl",
]
TEST_ADDONS = ["retail_connect_test_platform", "retail_connect_test_flashsale"]
TEST_ADDONS_DIR = ROOT / "tests" / "addons"
# tests/ folders that are no addon: the sandboxes, the suite as a whole (make
# test runs them; `make test ADDONS=suite` runs one alone)
SUITE_TEST_DIRS = ["sandboxes", "suite"]


def tests_folder(target):
    if target in SUITE_TEST_DIRS:
        return str(ROOT / "tests" / target)
    if target in SUITE_ADDONS:
        return str(ROOT / target / "tests")
    return str(TEST_ADDONS_DIR / target / "tests")


TESTED_ODOO = "18.0-20250506"  # the nightly build the suite is tested with
README_STEPS = {
    1: 'README.md, Prerequisites, "Step 1 — system packages"',
    3: 'README.md, Prerequisites, "Step 3 — Odoo 18.0 Community"',
    4: 'README.md, Prerequisites, "Step 4 — Odoo\'s Python requirements"',
    5: 'README.md, Prerequisites, "Step 5" (`make deps`)',
}
PG_DEBIAN_DIR = Path("/usr/lib/postgresql")  # Debian's versioned server binaries
PG_SERVER_BINARIES = ("initdb", "pg_ctl", "pg_isready", "psql", "createdb", "dropdb")
PG_CLIENT_BINARIES = ("pg_isready", "psql", "createdb", "dropdb")
CHROME_BINARIES = ("google-chrome", "chromium", "chromium-browser")  # Odoo's lookup


def log(msg):
    print(f"[retail_connect] {msg}", flush=True)


def fail(msg, code=2):
    print(f"[retail_connect] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


class Missing(Exception):  # noqa: N818 - a prerequisite, not an error of ours
    """A prerequisite is missing; the message says which README step fixes it."""

    def __init__(self, what, step, hint=""):
        self.step = step
        text = f"{what}\n  Fix: {README_STEPS[step]}."
        if hint:
            text += f"\n  {hint}"
        super().__init__(text)


def require(check, *args, **kwargs):
    """Run a check; on a missing prerequisite stop with its message."""
    try:
        return check(*args, **kwargs)
    except Missing as missing:
        fail(str(missing))


# --------------------------------------------------------------------- checks
# Run by another interpreter (the one that runs Odoo): where is Odoo, which
# addons can its addons path see. Odoo's own addons are in odoo/addons of the
# nightly package, in the top-level addons/ of a git checkout.
ODOO_PROBE = """
import json, os, odoo, odoo.release as r
import odoo.addons
here = os.path.dirname(os.path.abspath(odoo.__file__))
dirs = list(dict.fromkeys(
    [os.path.abspath(p) for p in odoo.addons.__path__]
    + [os.path.join(os.path.dirname(here), 'addons')]))
found = {}
for d in dirs:
    if os.path.isdir(d):
        found[d] = sorted(n for n in os.listdir(d)
            if os.path.isfile(os.path.join(d, n, '__manifest__.py')))
print(json.dumps({'serie': r.serie, 'version': r.version, 'odoo': here,
                  'addons': found}))
"""


def suite_odoo_dependencies():
    """The addons outside the suite that the suite's manifests depend on."""
    import ast  # noqa: PLC0415

    depends = set()
    for addon in SUITE_ADDONS:
        manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
        depends.update(manifest.get("depends", []))
    return sorted(depends - set(SUITE_ADDONS))


def probe_odoo(python=None, env=None):
    """Find Odoo 18.0 and its addons with ``python`` (default: this interpreter).

    Returns ``{"version", "odoo", "addons": {dir: [module, ...]}}``; raises
    :class:`Missing` naming the README step when Odoo is not importable from any
    folder, is not 18.0, or its own addons are not found.
    """
    python = python or [sys.executable]
    proc = subprocess.run(
        [*python, "-c", ODOO_PROBE],
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        # odoo itself not found: step 3; one of its requirements missing: step 4
        step = 3 if "No module named 'odoo'" in last else 4
        raise Missing(
            f"Odoo 18.0 is not importable by {python[0]} from any folder ({last}).",
            step,
            "Check: cd / && python3 -c 'import odoo.release as r; print(r.version)'",
        )
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if info["serie"] != "18.0":
        raise Missing(f"found Odoo {info['version']} in {info['odoo']}, not 18.0.", 3)
    available = {m for modules in info["addons"].values() for m in modules}
    wanted = [m for m in suite_odoo_dependencies() if m != "queue_job"]
    absent = [m for m in wanted if m not in available]
    if absent:
        raise Missing(
            f"Odoo {info['version']} is importable from {info['odoo']}, but Odoo's "
            f"own addons ({', '.join(absent)}) are in none of "
            f"{', '.join(info['addons']) or 'its addons folders'}: use the nightly "
            "package (all addons in odoo/addons) or a full checkout of the 18.0 "
            "branch (addons/ beside odoo/).",
            3,
        )
    return info


def odoo_addons_dirs(info):
    """Folders of Odoo's addons that Odoo does not add by itself (git layout)."""
    own = os.path.join(info["odoo"], "addons")
    return [d for d in info["addons"] if d != own and "site-packages" not in d]


_ODOO_INFO = {}


def check_odoo():
    """Fail fast, saying exactly what is missing, when Odoo 18.0 is not there."""
    if "info" not in _ODOO_INFO:
        info = require(probe_odoo)
        if info["version"] != TESTED_ODOO:
            log(
                f"note: Odoo {info['version']} is not the tested build "
                f"({TESTED_ODOO}); see README.md, Prerequisites, Step 3"
            )
        _ODOO_INFO["info"] = info
    return _ODOO_INFO["info"]["version"]


def check_queue_job():
    """queue_job (OCA) is importable as an Odoo addon (installed by make deps)."""
    info = probe_odoo()
    if not any("queue_job" in modules for modules in info["addons"].values()):
        raise Missing("OCA's queue_job addon is not installed.", 5)


def find_pg_bin(name):
    """A PostgreSQL binary from PATH, else Debian's layout; None if absent."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(PG_DEBIAN_DIR.glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def check_postgres(external=None):
    """The PostgreSQL binaries a run needs: the server's unless RC_DB_HOST is set."""
    if external is None:
        external = bool(os.environ.get("RC_DB_HOST"))
    names = PG_CLIENT_BINARIES if external else PG_SERVER_BINARIES
    absent = [name for name in names if not find_pg_bin(name)]
    if absent:
        raise Missing(
            f"PostgreSQL's {', '.join(absent)} not found (in PATH or "
            f"{PG_DEBIAN_DIR}/*/bin).",
            1,
            "Or set RC_DB_HOST to a running server (the client binaries are still "
            "needed)."
            if not external
            else "",
        )


def check_wrk():
    if not shutil.which("wrk"):
        raise Missing("`wrk` (the HTTP load generator of make bench) not found.", 1)


def check_chromium():
    """Chromium for Odoo's browser tests; without it they are skipped."""
    if not any(shutil.which(name) for name in CHROME_BINARIES):
        raise Missing(
            "Chromium not found: the browser tests will be skipped "
            "(Odoo: 'Chrome not found').",
            1,
        )


def note_chromium():
    try:
        check_chromium()
    except Missing as missing:
        log(f"note: {missing}")


def cmd_check(args):
    """Every prerequisite, one line each; non-zero when a needed one is missing."""
    checks = [("Odoo 18.0 and its addons", probe_odoo, True)]
    # installed by make deps / make test themselves: reported, never fatal here
    checks += [("queue_job (make deps installs it)", check_queue_job, False)]
    checks += [("PostgreSQL", check_postgres, True)]
    checks += [("wrk (make bench)", check_wrk, args.bench)]
    checks += [("Chromium (browser tests)", check_chromium, False)]
    rc = 0
    for label, check, needed in checks:
        try:
            result = check()
        except Missing as missing:
            log(f"{'MISSING' if needed else 'note'}: {label}: {missing}")
            rc = rc or int(needed)
            continue
        extra = f" ({result['version']} in {result['odoo']})" if result else ""
        log(f"ok: {label}{extra}")
    return rc


def pg_bin(name):
    """Locate a PostgreSQL binary (PATH first, then Debian's layout)."""
    found = find_pg_bin(name)
    if not found:
        require(check_postgres)
        fail(f"PostgreSQL's `{name}` was not found (README.md, Prerequisites, Step 1).")
    return found


# ----------------------------------------------------------------- postgresql
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """A reachable PostgreSQL server: the user's, or a private loopback cluster."""

    def __init__(self):
        self.external = bool(os.environ.get("RC_DB_HOST"))
        self.started = False
        if self.external:
            self.host = os.environ["RC_DB_HOST"]
            self.port = int(os.environ.get("RC_DB_PORT", "5432"))
            self.user = os.environ.get("RC_DB_USER", DB_USER)
            self.password = os.environ.get("RC_DB_PASSWORD", "")
        else:
            self.host = "127.0.0.1"
            self.port = int(os.environ.get("RC_PG_PORT", "55432"))
            self.user = DB_USER
            self.password = ""
            self.datadir = CACHE / "pg"

    # The private cluster never runs as root (initdb refuses it): when we are
    # root, it runs as a dedicated system user created on first use.
    def _as_owner(self, argv):
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", PG_SYSTEM_USER, "--", *argv]

    def _ensure_system_user(self):
        if os.geteuid() != 0:
            return
        try:
            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", PG_SYSTEM_USER],
                check=True,
            )
        uid = pwd.getpwnam(PG_SYSTEM_USER)
        CACHE.mkdir(parents=True, exist_ok=True)
        # the owner must be able to reach its data folder
        path = self.datadir
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, uid.pw_uid, uid.pw_gid)
        for parent in [CACHE, *CACHE.parents]:
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def env(self):
        env = dict(os.environ)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def is_ready(self):
        proc = subprocess.run(
            [pg_bin("pg_isready"), "-h", self.host, "-p", str(self.port), "-q"],
            check=False,
        )
        return proc.returncode == 0

    def start(self):
        # every run holds a shared lock while it uses the private cluster: the
        # run that started it stops it only when no other run still uses it
        if not self.external:
            CACHE.mkdir(parents=True, exist_ok=True)
            self._users_lock = open(CACHE / "pg.users.lock", "w")  # noqa: SIM115
            fcntl.flock(self._users_lock, fcntl.LOCK_SH)
        try:
            return self._start()
        except subprocess.CalledProcessError:
            if self.external or not self.datadir.exists():
                raise
            # a throwaway cluster (fsync off) that a killed session left broken:
            # start over rather than fail every later run
            log(f"the private cluster in {self.datadir} does not start: recreating it")
            shutil.rmtree(self.datadir)
            return self._start()

    def _start(self):
        if self.external:
            if not self.is_ready():
                fail(f"RC_DB_HOST={self.host}:{self.port} does not answer.")
            return self
        if self.is_ready():
            log(f"reusing PostgreSQL on {self.host}:{self.port}")
            return self
        self._ensure_system_user()
        if not (self.datadir / "PG_VERSION").exists():
            log(f"creating a private PostgreSQL cluster in {self.datadir}")
            subprocess.run(
                self._as_owner(
                    [
                        pg_bin("initdb"),
                        "-D",
                        str(self.datadir),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        logfile = self.datadir / "server.log"
        subprocess.run(
            self._as_owner(
                [
                    pg_bin("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(logfile),
                    "-w",
                    "-o",
                    f"-h 127.0.0.1 -p {self.port} -k {self.datadir} "
                    "-c fsync=off -c synchronous_commit=off "
                    "-c full_page_writes=off -c max_connections=200",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.started = True
        log(f"started PostgreSQL on {self.host}:{self.port} (log: {logfile})")
        self._ensure_role()
        return self

    def _ensure_role(self):
        sql = (
            "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname="
            f"'{DB_USER}') THEN CREATE ROLE {DB_USER} LOGIN SUPERUSER; END IF; END$$;"
        )
        subprocess.run(
            [
                pg_bin("psql"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                sql,
            ],
            check=True,
        )

    def stop(self):
        if self.started and not self._sole_user():
            log("PostgreSQL left running: another run still uses it")
            self.started = False
        if self.started:
            subprocess.run(
                self._as_owner(
                    [pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"]
                ),
                check=False,
                stdout=subprocess.DEVNULL,
            )
            log("stopped PostgreSQL")
            self.started = False

    def _sole_user(self):
        lock = getattr(self, "_users_lock", None)
        if lock is None:
            return True
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def psql(self, sql, db="postgres"):
        proc = subprocess.run(
            [pg_bin("psql"), "-d", db, "-tAqc", sql],
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        )
        return proc.stdout.strip()

    def databases(self):
        return set(
            self.psql("SELECT datname FROM pg_database WHERE NOT datistemplate").split()
        )

    def drop(self, name):
        subprocess.run(
            [pg_bin("dropdb"), "--if-exists", "--force", name],
            env=self.env(),
            check=True,
        )


# --------------------------------------------------------------- odoo config
def addons_path(with_tests):
    check_odoo()
    paths = [str(ROOT), *odoo_addons_dirs(_ODOO_INFO["info"])]
    if with_tests:
        paths.append(str(TEST_ADDONS_DIR))
    return ",".join(paths)


def write_config(pg, name, *, with_tests, extra=None):
    """An Odoo configuration file for this run, in the cache folder."""
    CACHE.mkdir(parents=True, exist_ok=True)
    lines = [
        "[options]",
        f"addons_path = {addons_path(with_tests)}",
        f"data_dir = {CACHE / 'data'}",
        f"db_host = {pg.host}",
        f"db_port = {pg.port}",
        f"db_user = {pg.user}",
        f"db_password = {pg.password or 'False'}",
        "list_db = False",
        "server_wide_modules = base,web,queue_job",
        f"retail_connect_key = {os.environ.get('RETAIL_CONNECT_KEY', test_key())}",
    ]
    for key, value in (extra or {}).items():
        lines.append(f"{key} = {value}")
    lines += ["", "[queue_job]", "channels = root:2"]
    # one file per clone: runs of other clones (worktrees) write theirs at the
    # same time, each with its own addons path
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    path = CACHE / f"{name}-{tag}.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def server_options(db, port, *, workers, logfile, db_filter=False, **more):
    """Odoo options of a served single database (demo and benchmarks).

    One database by ``db_name`` and no ``dbfilter`` (with a filter, Odoo 18 lists
    the databases on every sessionless request: webhooks get 3x slower); a free
    ``gevent_port``, since with workers Odoo always starts its long-polling child,
    which crash-loops while another Odoo holds the default port.
    """
    options = {
        "db_name": db,
        "http_interface": "127.0.0.1",
        "http_port": port,
        "gevent_port": free_port(),
        "workers": workers,
        "logfile": logfile,
        **more,
    }
    if db_filter:
        options["dbfilter"] = f"^{db}$"
    return options


def test_key():
    """A fixed Fernet key for throwaway test and demo databases only.

    Production servers set ``retail_connect_key`` in their own configuration
    (see README, "Secrets"); this one is derived, not stored anywhere real.
    """
    import base64  # noqa: PLC0415

    digest = hashlib.sha256(b"retail_connect throwaway test key").digest()
    return base64.urlsafe_b64encode(digest).decode()


def odoo_cmd(config, *args):
    launcher = ROOT / "tools" / "odoo_bin.py"
    return [sys.executable, str(launcher), "-c", str(config), *args]


def content_hash(addons):
    """Hash of everything that changes what an installed database holds."""
    digest = hashlib.sha256()
    dirs = [ROOT / a for a in SUITE_ADDONS] + [TEST_ADDONS_DIR / a for a in addons]
    for folder in dirs:
        for path in sorted(folder.rglob("*")):
            # tests change no database content: editing them reuses the template
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and "tests" not in path.relative_to(folder).parts
            ):
                if path.suffix in (".py", ".xml", ".csv", ".sql") or path.name in (
                    "__manifest__.py",
                ):
                    digest.update(str(path.relative_to(ROOT)).encode())
                    digest.update(path.read_bytes())
    digest.update(check_odoo().encode())
    return digest.hexdigest()[:12]


def copy_filestore(src, dst):
    store = CACHE / "data" / "filestore"
    if (store / src).exists():
        shutil.rmtree(store / dst, ignore_errors=True)
        shutil.copytree(store / src, store / dst)


def drop_filestore(name):
    shutil.rmtree(CACHE / "data" / "filestore" / name, ignore_errors=True)


def template_db(pg, *, demo, with_tests):
    """Return the name of a database with the suite installed, building it once.

    Concurrent runs (a test run and a benchmark) wait for each other here.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _template_db(pg, demo=demo, with_tests=with_tests)


def _template_db(pg, *, demo, with_tests):
    kind = "demo" if demo else "test"
    modules = SUITE_ADDONS + (TEST_ADDONS if with_tests else [])
    name = f"rc_tmpl_{kind}_{content_hash(TEST_ADDONS if with_tests else [])}"
    existing = pg.databases()
    _mark_used(name)
    if name in existing:
        log(f"reusing template database {name} (addons unchanged)")
        return name
    _prune_templates(pg, kind, existing, keep=name)
    config = write_config(pg, "install", with_tests=with_tests)
    log(f"installing {', '.join(modules)} into {name} (once per addon change)")
    args = ["-d", name, "-i", ",".join(modules), "--stop-after-init"]
    args += ["--log-level=warn"]
    if not demo:
        args.append("--without-demo=all")
    t0 = time.time()
    proc = subprocess.run(odoo_cmd(config, *args), check=False)
    if proc.returncode:
        pg.drop(name)
        fail(f"installing the suite failed (exit {proc.returncode}); see above.")
    log(f"installed in {time.time() - t0:.0f}s")
    return name


def deps_template_db(pg):
    """A database with only the Odoo addons the suite depends on (no suite addon).

    The per-addon install checks copy it, then install one platform alone.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    modules = suite_odoo_dependencies()
    digest = hashlib.sha256(f"{modules}{check_odoo()}".encode()).hexdigest()[:12]
    name = f"rc_tmpl_deps_{digest}"
    with open(CACHE / "template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = pg.databases()
        _mark_used(name)
        if name in existing:
            return name
        _prune_templates(pg, "deps", existing, keep=name)
        config = write_config(pg, "install-deps", with_tests=False)
        log(f"installing {', '.join(modules)} into {name} (once per Odoo build)")
        args = ["-d", name, "-i", ",".join(modules), "--stop-after-init"]
        args += ["--log-level=warn", "--without-demo=all"]
        proc = subprocess.run(odoo_cmd(config, *args), check=False)
        if proc.returncode:
            pg.drop(name)
            raise RuntimeError(f"installing {modules} failed (exit {proc.returncode})")
    return name


TEMPLATES_KEPT = 4  # per kind: worktrees of one clone each keep their own
TEMPLATE_GRACE = 3600  # seconds: a template used this recently is never dropped


def _mark_used(name):
    marks = CACHE / "templates"
    marks.mkdir(parents=True, exist_ok=True)
    (marks / name).touch()


def _prune_templates(pg, kind, existing, keep):
    """Drop the least recently used templates beyond TEMPLATES_KEPT.

    Another run (another worktree, another branch) may be about to copy one of
    them: those used within TEMPLATE_GRACE are kept whatever their number.
    """
    marks = CACHE / "templates"
    now = time.time()

    def last_used(db):
        mark = marks / db
        return mark.stat().st_mtime if mark.exists() else 0.0

    others = sorted(
        (db for db in existing if db.startswith(f"rc_tmpl_{kind}_") and db != keep),
        key=last_used,
        reverse=True,
    )
    for db in others[TEMPLATES_KEPT - 1 :]:
        if now - last_used(db) > TEMPLATE_GRACE:
            pg.drop(db)
            drop_filestore(db)
            (marks / db).unlink(missing_ok=True)


def fresh_db(pg, template, name):
    pg.drop(name)
    drop_filestore(name)
    subprocess.run([pg_bin("createdb"), "-T", template, name], env=pg.env(), check=True)
    copy_filestore(template, name)


# --------------------------------------------------------------------- deps
def install_deps():
    """Install the suite's Python dependencies (pip no-ops when satisfied)."""
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    env = dict(os.environ, PIP_CONSTRAINT=str(ROOT / "constraints.txt"))
    log("installing Python dependencies (requirements.txt, constraints.txt)")
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], env=env, check=True)
    # OCA's wheel requires the "odoo" distribution, which Odoo source installs do
    # not register: install it without dependencies (its only other one,
    # requests, is in requirements.txt).
    subprocess.run(
        [*pip, "--no-deps", "-r", str(ROOT / "requirements-odoo-addons.txt")],
        env=env,
        check=True,
    )


# --------------------------------------------------------------------- test
def prerequisites(args, *, bench=False):
    """Check what a command needs before it starts anything."""
    check_odoo()
    require(check_postgres)
    if bench:
        require(check_wrk)
    if not args.no_deps:
        install_deps()
    require(check_queue_job)


def cmd_test(args):
    prerequisites(args)
    note_chromium()
    pg = Postgres().start()
    rc = 1
    dbs = []
    try:
        template = template_db(pg, demo=False, with_tests=True)
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")])
            ),
            # tests that need a second database (promotion) copy it
            RC_TEMPLATE_DB=template,
        )
        targets = args.addons or SUITE_ADDONS + TEST_ADDONS + SUITE_TEST_DIRS
        if "retail_connect_base" in targets:
            # the base's integration tests run through the test-only platform
            targets = list(dict.fromkeys([*targets, "retail_connect_test_platform"]))
        rc = 0
        addons = [a for a in targets if a not in SUITE_TEST_DIRS]
        if args.odoo_runner and addons:
            db = f"rc_test_odoo_{os.getpid()}"  # concurrent runs never share one
            dbs.append(db)
            fresh_db(pg, template, db)
            config = write_config(pg, "test-odoo", with_tests=True)
            tags = ",".join(f"/{a}" for a in addons)
            log(f"Odoo's own runner: --test-tags {tags}")
            proc = subprocess.run(
                odoo_cmd(
                    config,
                    "-d",
                    db,
                    "--test-tags",
                    tags,
                    "--stop-after-init",
                    "--log-level=test",
                    f"--http-port={free_port()}",
                ),
                env=env,
                check=False,
            )
            if proc.returncode:
                log(f"Odoo's test runner failed (exit {proc.returncode})")
                rc = 1
        db = f"rc_test_{os.getpid()}"
        dbs.append(db)
        fresh_db(pg, template, db)
        config = write_config(pg, "test", with_tests=True)
        paths = [tests_folder(a) for a in targets]
        pytest = [
            sys.executable,
            "-m",
            "pytest",
            f"--odoo-database={db}",
            f"--odoo-config={config}",
            "--odoo-http",
            "-p",
            "no:cacheprovider",
            *args.pytest_args,
            *paths,
        ]
        log("pytest-odoo: " + " ".join(pytest[3:]))
        proc = subprocess.run(pytest, env=env, cwd=ROOT, check=False)
        if proc.returncode == 5:
            log("pytest collected no test: that is a failure")
        rc = rc or proc.returncode
    finally:
        if not args.keep:
            for db in dbs:
                pg.drop(db)
                drop_filestore(db)
        pg.stop()
    return rc


# --------------------------------------------------------------------- demo
def seed_demo(url, db, sandbox_port_base):
    """Give the demo shop a catalog and orders, and send their webhooks to Odoo;
    then the Stripe, 3PL and Amazon sandboxes their traffic (demo_platforms.py).

    The sandboxes keep state in memory: each `make demo` seeds them again, as a
    shop that starts over. Their ids are never reused across runs (``--state-dir``
    under ``$RC_CACHE``), so the orders of each run are new sale orders in Odoo
    and never update an order an earlier run imported; products bound by an
    earlier run are gone from the new shop, as if deleted on Shopify, which the
    connector reports as it would on a real shop (a mapping exception on the
    next stock push). One order sells a SKU Odoo does not know, to show a sync
    exception and its fix.
    """
    import requests  # noqa: PLC0415

    rpc = requests.Session()
    answer = rpc.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": db, "login": "admin", "password": "admin"}},
        timeout=30,
    ).json()
    if answer.get("error"):
        raise RuntimeError(answer["error"]["data"]["message"])

    def call(model, method, *args, **kwargs):
        reply = rpc.post(
            f"{url}/web/dataset/call_kw",
            json={
                "params": {
                    "model": model,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs,
                }
            },
            timeout=30,
        ).json()
        if reply.get("error"):
            raise RuntimeError(reply["error"]["data"]["message"])
        return reply.get("result")  # absent when the method returns None

    try:
        seed_shopify(call, url, sandbox_port_base)
    except Exception as err:  # noqa: BLE001 - the other platforms still run
        log(f"WARNING: Shopify demo traffic not sent: {err}")
    # Stripe, 3PL and Amazon: backends on their sandboxes, and their traffic
    sys.path.insert(0, str(ROOT / "tools"))
    import demo_platforms  # noqa: PLC0415

    demo_platforms.seed(call, url, sandbox_port_base, log)


def seed_shopify(call, url, sandbox_port_base):
    """The demo shop's catalog and orders (see seed_demo)."""
    import requests  # noqa: PLC0415

    backend_id = call(
        "ir.model.data",
        "search_read",
        [["module", "=", "retail_connect_shopify"], ["name", "=", "demo_backend"]],
        ["res_id"],
    )[0]["res_id"]
    shop = f"http://127.0.0.1:{sandbox_port_base + 1}/__sandbox__"
    # demo data says port 8071: follow --sandbox-port
    call(
        "retail.backend",
        "write",
        [backend_id],
        {"base_url": shop[: -len("/__sandbox__")]},
    )

    def post(path, data):
        response = requests.post(f"{shop}/{path}", json=data, timeout=30)
        response.raise_for_status()
        return response.json()

    # The demo shop sells in the demo company's currency: an order in a currency
    # Odoo has no pricelist for is (rightly) a mapping exception, not a demo.
    admin = [["login", "=", "admin"]]
    company = call("res.users", "search_read", admin, ["company_id"])
    currency = call(
        "res.company",
        "search_read",
        [["id", "=", company[0]["company_id"][0]]],
        ["currency_id"],
    )[0]["currency_id"][1]
    post(
        "config",
        {
            "webhook_url": f"{url}/retail_connect/webhook/{backend_id}",
            "currency": currency,
        },
    )
    location = post("locations", {"name": "Main warehouse"})
    for sku, price in (
        ("RC-TSHIRT", "29.95"),
        ("RC-MUG", "12.50"),
        ("RC-POSTER", "9.00"),
    ):
        post(
            "products",
            {
                "title": sku,
                "variants": [
                    {"sku": sku, "price": price, "inventory": {location["id"]: 20}}
                ],
            },
        )
    buyers = [
        ("jane@example.com", "Jane", "Doe", "+4915112345678"),
        ("li@example.com", "Li", "Wei", "+14155550100"),
    ]
    baskets = [
        [{"sku": "RC-TSHIRT", "quantity": 2}],
        [{"sku": "RC-MUG", "quantity": 1}, {"sku": "RC-TSHIRT", "quantity": 1}],
        [{"sku": "RC-POSTER", "quantity": 1}],
        [{"sku": "RC-MUG", "quantity": 4}],
    ]
    for index, lines in enumerate(baskets):
        email, first, last, phone = buyers[index % 2]
        order = post(
            "orders",
            {
                "customer": {
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "phone": phone,
                },
                "lines": lines,
            },
        )
        post("emit", {"topic": "orders/create", "id": order["id"]})
    log(f"demo shop seeded: {len(baskets)} orders sent to Odoo as webhooks")


def cmd_demo(args):
    prerequisites(args)
    pg = Postgres().start()
    procs = []

    def stop_all(*_):
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        pg.stop()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(signum)

    # explicit handlers: a demo started from a script may inherit SIGINT ignored
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        db = args.database
        if args.reset and db in pg.databases():
            pg.drop(db)
            drop_filestore(db)
            log(f"dropped demo database {db}")
        if db not in pg.databases():
            template = template_db(pg, demo=True, with_tests=False)
            fresh_db(pg, template, db)
            log(f"created demo database {db}")
        else:
            log(f"reusing demo database {db} (drop it to start over: make demo-reset)")
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")])
            ),
        )
        sandboxes = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandboxes",
                "--all",
                "--port-base",
                str(args.sandbox_port),
                # ids never reused across restarts: the demo database keeps
                # its bindings to the ids of earlier runs
                "--state-dir",
                str(CACHE / "sandboxes"),
            ],
            env=env,
            start_new_session=True,
        )
        procs.append(sandboxes)
        config = write_config(
            pg,
            "demo",
            with_tests=False,
            extra=server_options(
                db,
                args.port,
                workers=args.workers,
                logfile=CACHE / "demo-odoo.log",
                max_cron_threads=1,
            ),
        )
        odoo = subprocess.Popen(odoo_cmd(config), env=env, start_new_session=True)
        procs.append(odoo)
        url = f"http://127.0.0.1:{args.port}"
        for _ in range(120):
            try:
                with socket.create_connection(("127.0.0.1", args.port), timeout=1):
                    break
            except OSError:
                if odoo.poll() is not None:
                    fail(f"Odoo stopped (see {CACHE / 'demo-odoo.log'})")
                time.sleep(1)
        try:
            seed_demo(url, db, args.sandbox_port)
        except Exception as err:  # noqa: BLE001 - the demo still runs without it
            log(f"demo traffic not sent: {err}")
        log("")
        log(f"Odoo is up: {url}/odoo/action-retail_connect_base.action_overview")
        log("login: admin / password: admin")
        log(f"Odoo log: {CACHE / 'demo-odoo.log'}")
        log("Ctrl-C stops Odoo, the sandboxes and PostgreSQL")
        if args.check:
            return 0
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        fail("a demo process stopped; see the logs above", code=1)
    except KeyboardInterrupt:
        log("stopping")
        return 0
    finally:
        stop_all()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    test = sub.add_parser("test", help="run the suite's tests")
    test.add_argument("--addons", nargs="*", help="only these addons' tests")
    test.add_argument("--no-deps", action="store_true", help="skip pip install")
    test.add_argument("--keep", action="store_true", help="keep the test database")
    test.add_argument(
        "--odoo-runner",
        action="store_true",
        help="also run the same tests with Odoo's own --test-tags runner",
    )
    test.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    test.set_defaults(func=cmd_test)
    demo = sub.add_parser("demo", help="serve a demo database with the sandboxes")
    demo.add_argument("--database", default="retail_connect_demo")
    demo.add_argument("--port", type=int, default=8069)
    demo.add_argument("--workers", type=int, default=2)
    demo.add_argument("--sandbox-port", type=int, default=8070)
    demo.add_argument("--no-deps", action="store_true")
    demo.add_argument("--reset", action="store_true", help="recreate the database")
    demo.add_argument(
        "--check", action="store_true", help="start, wait until it answers, stop"
    )
    demo.set_defaults(func=cmd_demo)
    check = sub.add_parser(
        "check", help="check every prerequisite, say which README step fixes it"
    )
    check.add_argument("--bench", action="store_true", help="wrk is needed too")
    check.set_defaults(func=cmd_check)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
