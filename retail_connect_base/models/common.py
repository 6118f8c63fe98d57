import contextlib
import threading

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED


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
