from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.exceptions import UserError, ValidationError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import config

from odoo.addons.retail_connect_base.lib import secrets as secret_lib
from odoo.addons.retail_connect_base.models.retail_sync_policy import DOMAINS


@tagged("post_install", "-at_install")
class TestGovernance(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Backend = cls.env["retail.backend"]

    def _backend(self, **values):
        return self.Backend.create(
            dict(
                {"name": "B", "platform": "testshop", "environment": "sandbox"},
                **values,
            )
        )

    def test_new_backend_gets_a_policy_per_domain(self):
        backend = self._backend()
        self.assertEqual(
            sorted(backend.policy_ids.mapped("domain")), sorted(d for d, _ in DOMAINS)
        )
        customer = backend._policy("customer")
        self.assertEqual(
            (customer.direction, customer.system_of_record), ("both", "platform")
        )
        self.assertEqual(backend._policy("order").direction, "off")

    def test_policy_never_echoes_a_change_back_to_its_origin(self):
        backend = self._backend()
        backend.action_activate()
        policy = backend._policy("customer")
        self.assertTrue(policy._allows_export())
        self.assertFalse(policy._allows_export(origin_backend_id=backend.id))
        self.assertFalse(
            policy.with_context(retail_connect_origin=backend.id)._allows_export()
        )
        self.assertTrue(policy._allows_export(origin_backend_id=backend.id + 1))
        backend.action_pause()
        self.assertFalse(policy._allows_export())
        self.assertFalse(policy._allows_import())

    def test_sandbox_refuses_production_hosts_and_the_reverse(self):
        with self.assertRaises(ValidationError):
            self._backend(base_url="https://api.testshop.example/v1")
        with self.assertRaises(ValidationError):
            self._backend(environment="production", base_url="http://127.0.0.1:8070")
        production = self._backend(
            environment="production", base_url="https://api.testshop.example"
        )
        self.assertEqual(production.environment, "production")

    def test_neutralized_copy_pauses_production_backends(self):
        production = self._backend(
            environment="production", base_url="https://api.testshop.example"
        )
        production.action_activate()
        sandbox = self._backend(base_url="http://127.0.0.1:8070")
        sandbox.action_activate()
        self.env.flush_all()
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        self.assertEqual(production.state, "paused")
        self.assertIn("neutralized", production.paused_reason)
        self.assertEqual(sandbox.state, "active")

    def test_copied_database_refuses_production_calls(self):
        production = self._backend(
            environment="production", base_url="https://api.testshop.example"
        )
        production.action_activate()
        production._assert_can_call()  # same database: allowed
        self.env["ir.config_parameter"].set_param("database.uuid", "a-copy")
        # no assertRaises: its savepoint would roll the pause back
        try:
            production._assert_can_call()
        except UserError as err:
            self.assertIn("copy", str(err))
        else:
            self.fail("a copied database must refuse production calls")
        self.assertEqual(production.state, "paused")

    def test_missing_key_is_a_clear_error_not_plaintext(self):
        backend = self._backend()
        with (
            patch.dict(config.options, {secret_lib.CONFIG_KEY: ""}),
            patch.dict("os.environ", {secret_lib.ENV_VAR: ""}),
        ):
            with self.assertRaisesRegex(UserError, "retail_connect_key"):
                backend.api_key = "s3cret"
        self.assertFalse(
            self.env["retail.secret"].search([("backend_id", "=", backend.id)])
        )

    def test_key_rotation_keeps_secrets_readable(self):
        backend = self._backend()
        backend.api_key = "rotate-me"
        old = config.get(secret_lib.CONFIG_KEY)
        new = Fernet.generate_key().decode()
        with patch.dict(config.options, {secret_lib.CONFIG_KEY: f"{new},{old}"}):
            self.assertEqual(backend._get_secret("api_key"), "rotate-me")
            self.env["retail.secret"]._rotate_all()
        with patch.dict(config.options, {secret_lib.CONFIG_KEY: new}):
            self.assertEqual(backend._get_secret("api_key"), "rotate-me")


@tagged("post_install", "-at_install")
class TestMetrics(HttpCase):
    def test_metrics_need_the_token(self):
        url = "/retail_connect/metrics"
        self.assertEqual(self.url_open(url).status_code, 401)
        self.env["ir.config_parameter"].set_param(
            "retail_connect.metrics_token", "metrics-token-1"
        )
        self.assertEqual(
            self.url_open(url, headers={"Authorization": "Bearer wrong"}).status_code,
            401,
        )
        answer = self.url_open(url, headers={"Authorization": "Bearer metrics-token-1"})
        self.assertEqual(answer.status_code, 200)
        self.assertIn("# TYPE retail_connect_events gauge", answer.text)
        self.assertIn("retail_connect_exceptions_open", answer.text)
