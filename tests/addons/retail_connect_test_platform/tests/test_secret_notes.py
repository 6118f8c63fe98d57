"""The chatter logs a secret change only when the secret changed (issue 15)."""

from odoo.tests import Form, tagged

from .common import TOKEN, TestShopCase


@tagged("post_install", "-at_install")
class TestSecretNotes(TestShopCase):
    def _new_backend(self):
        form = Form(self.env["retail.backend"])
        form.name = "Second TestShop"
        form.platform = "testshop"
        form.base_url = self.server.url
        return form.save()

    def test_secret_fields_left_blank_log_nothing_a_real_change_is_logged(self):
        backend = self._new_backend()

        def notes():
            return backend.message_ids.filtered(lambda m: "Secret" in (m.body or ""))

        self.assertFalse(notes(), "nothing was set")
        with Form(backend) as form:
            form.access_token = TOKEN
        self.assertEqual(len(notes()), 1)
        backend.write({"api_key": False, "client_secret": False})  # never set
        backend.access_token = backend.access_token  # the mask, unchanged
        self.assertEqual(len(notes()), 1)
        backend.access_token = False
        self.assertEqual(len(notes()), 2, "a removal is a change")
