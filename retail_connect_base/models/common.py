import contextlib
import threading


@contextlib.contextmanager
def side_cursor(env):
    """A cursor whose writes survive the caller's rollback (exchange log, limiter).

    Outside tests it is a short transaction of its own, committed on exit. Under
    Odoo's test harness (which forbids commits and shares one transaction) it is
    a savepoint of the current cursor, so tests still see what was written.
    """
    if getattr(threading.current_thread(), "testing", False) or (
        env.registry.in_test_mode()
    ):
        with env.cr.savepoint():
            yield env.cr
        return
    with env.registry.cursor() as cr:
        yield cr
