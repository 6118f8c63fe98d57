from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def _state(self, name):
        module = self.env["ir.module.module"].search([("name", "=", name)])
        return module.state

    def test_module_installed(self):
        self.assertEqual(self._state("retail_connect_amazon"), "installed")

    def test_base_installed(self):
        self.assertEqual(self._state("retail_connect_base"), "installed")
