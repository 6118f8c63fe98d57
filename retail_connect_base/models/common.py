import contextlib
import threading

from psycopg2.errors import UniqueViolation
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo.addons.queue_job.exception import RetryableJobError


@contextlib.contextmanager
def side_cursor(env, read_committed=False):
    """A cursor whose writes survive the caller's rollback (exchange log, limiter).

    Outside tests it is a short transaction of its own, committed on exit. Under
    Odoo's test harness (which forbids commits and shares one transaction) it is
    a savepoint of the current cursor, so tests still see what was written.

    ``read_committed``: for a row every worker updates (the rate bucket), where
    Odoo's REPEATABLE READ would fail concurrent updates with serialization
    errors instead of waiting for each other.
    """
    if getattr(threading.current_thread(), "testing", False) or (
        env.registry.in_test_mode()
    ):
        with env.cr.savepoint():
            yield env.cr
        return
    with env.registry.cursor() as cr:
        if read_committed:
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
        yield cr


def sql_insert(model, values, on_conflict_do_nothing=False):
    """INSERT one row of ``model`` from ORM values, without the ORM create.

    Each value goes through its field's own column conversion, so the row is
    what ``create`` would have written for these fields (no defaults, computes
    or hooks run). Return the new id, or None when a unique constraint made
    ``ON CONFLICT DO NOTHING`` skip it.
    """
    rows = sql_insert_many(model, [values], on_conflict_do_nothing)
    return rows[0][0] if rows else None


def sql_insert_many(model, rows, on_conflict_do_nothing=False, returning=("id",)):
    """``sql_insert`` of several rows in one INSERT; a field some rows lack
    is NULL in them (as ``sql_insert`` leaves it). Return the ``returning``
    columns of the rows inserted (``ON CONFLICT DO NOTHING``: those skipped
    are missing)."""
    from odoo import fields  # noqa: PLC0415

    if not rows:
        return []
    rows = [dict(values) for values in rows]
    if model._log_access:
        now = fields.Datetime.now()
        uid = model.env.uid
        for values in rows:
            values.update(
                create_uid=uid, write_uid=uid, create_date=now, write_date=now
            )
    names = []
    for values in rows:
        for name in values:
            field = model._fields.get(name)
            if name in names or field is None or not field.store:
                continue
            if not field.type.endswith("2many"):
                names.append(name)
    params = []
    for values in rows:
        for name in names:
            value = values.get(name)
            params.append(
                None
                if name not in values
                else model._fields[name].convert_to_column_insert(value, model, values)
            )
    columns = ", ".join(f'"{name}"' for name in names)
    row_sql = f"({', '.join(['%s'] * len(names))})"
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    model.env.cr.execute(
        f'INSERT INTO "{model._table}" ({columns}) '  # noqa: S608
        f"VALUES {', '.join([row_sql] * len(rows))}{conflict} "
        f"RETURNING {', '.join(returning)}",
        params,
    )
    return model.env.cr.fetchall()


MANAGER = "retail_connect_base.group_manager"
USER = "retail_connect_base.group_user"


def check_group(env, xmlid=MANAGER):
    """Refuse the caller unless it has ``xmlid`` (a hidden button is no permission).

    Every public method is an RPC endpoint for whoever can read the model: a
    button checks here, on the server, the group it needs.
    """
    if env.su or env.user.has_group(xmlid):
        return
    from odoo.exceptions import AccessError  # noqa: PLC0415

    group = env.ref(xmlid, raise_if_not_found=False)
    raise AccessError(
        env._(
            "Only members of %(group)s may do this.",
            group=group.full_name if group else xmlid,
        )
    )


def create_or_retry(model, values):
    """Create the record found missing under ``backend._lock_external``.

    The lock serializes two workers, but cannot refresh the second one's
    snapshot: PostgreSQL (REPEATABLE READ) took it at the transaction's first
    query, before the lock (queue_job reads its job first). Once the first
    worker commits, the second still does not see its record and inserts it
    again: a unique violation. Here, in a savepoint, that violation becomes a
    ``RetryableJobError``: queue_job runs the job again on a fresh snapshot,
    which finds the record. No duplicate, no spurious sync exception.
    """
    try:
        with model.env.cr.savepoint():
            record = model.create(values)
            record.flush_recordset()
    except UniqueViolation as err:
        raise RetryableJobError(
            f"{model._name}: created at the same time by another worker; "
            "retrying to use it",
            seconds=1,
        ) from err
    return record
