"""Health tells the truth: what is wrong and what to do (issue 15)."""

from odoo.tests import Form, tagged

from .common import TOKEN, TestShopCase


@tagged("post_install", "-at_install")
class TestBackendTruth(TestShopCase):
    def _new_backend(self):
        form = Form(self.env["retail.backend"])
        form.name = "Second TestShop"
        form.platform = "testshop"
        form.base_url = self.server.url
        return form.save()

    def _health(self, backend=None):
        backend = backend or self.backend
        backend.invalidate_recordset(["health", "health_message"])
        return backend.health, backend.health_message or ""

    # --------------------------------------------------------------- health
    def test_never_checked_is_not_healthy(self):
        backend = self._new_backend()
        health, message = self._health(backend)
        self.assertNotEqual(health, "ok")
        self.assertIn("Test connection", message)
        backend.access_token = TOKEN
        backend.action_test_connection()
        self.assertEqual(self._health(backend), ("ok", ""))

    def test_failing_calls_are_shown_with_what_to_do(self):
        self.backend.action_test_connection()
        self.assertEqual(self._health(), ("ok", ""))
        self.sandbox.inject_fault("status", status=503, times=3)
        for _attempt in range(3):
            self.backend.action_test_connection()
        health, message = self._health()
        self.assertEqual(health, "error", "most calls fail")
        self.assertIn("3 of 4 calls failed in the last hour", message)
        self.assertIn("exchange log", message)
