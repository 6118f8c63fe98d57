"""A backend's secrets: the masked fields, and their values encrypted in
``retail.secret`` (key outside the database); the webhook secret's rotation
with a grace period for the previous one."""

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..lib.errors import (
    SecretKeyMissing,
)
from .retail_backend import (
    MASKED,
    SECRET_NAMES,
)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _compute_secrets(self):
        stored = self.env["retail.secret"].sudo()._names_set(self.ids)
        for backend in self:
            names = stored.get(backend.id, set())
            for name in SECRET_NAMES:
                backend[name] = MASKED if name in names else False

    def _inverse_secret(self, name):
        for backend in self:
            value = backend[name]
            if value and value != MASKED:
                backend._set_secret(name, value)
            elif not value:
                backend._set_secret(name, False)
        # never keep the clear value in the cache: reads show the mask again
        self.invalidate_recordset([name])

    def _inverse_api_key(self):
        self._inverse_secret("api_key")

    def _inverse_client_secret(self):
        self._inverse_secret("client_secret")

    def _inverse_access_token(self):
        self._inverse_secret("access_token")

    def _inverse_webhook_secret(self):
        for backend in self:
            value = backend.webhook_secret
            if value == MASKED:
                continue
            backend._rotate_webhook_secret(value or False)
        self.invalidate_recordset(["webhook_secret"])

    # ------------------------------------------------------------- secrets
    def _get_secret(self, name):
        """Clear value of a secret, for platform code only (never for display)."""
        self.ensure_one()
        return self.env["retail.secret"].sudo()._read_secret(self.id, name)

    def _set_secret(self, name, value):
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(
            "retail_connect_base.group_manager"
        ):
            raise UserError(self.env._("Only Retail Connect managers set secrets."))
        secrets = self.env["retail.secret"].sudo()
        try:
            if (secrets._read_secret(self.id, name) or False) == (value or False):
                return  # a field left blank, or the same value: nothing changed
            secrets._write_secret(self.id, name, value)
        except SecretKeyMissing as err:
            raise UserError(str(err)) from err
        # a note, not a message: it needs no sender address
        self._message_log(body=self.env._("Secret %(name)s changed.", name=name))

    def _rotate_webhook_secret(self, new_secret):
        """Make ``new_secret`` current; the previous one stays valid for a while."""
        self.ensure_one()
        secrets = self.env["retail.secret"].sudo()
        current = secrets._read_secret(self.id, "webhook_secret")
        if current and new_secret and current != new_secret:
            secrets._write_secret(self.id, "webhook_secret_previous", current)
            self.webhook_previous_valid_until = fields.Datetime.now() + timedelta(
                hours=self.webhook_secret_grace_hours
            )
        self._set_secret("webhook_secret", new_secret)

    def _webhook_secrets(self):
        """Secrets a delivery may be signed with: current, then previous in grace."""
        self.ensure_one()
        secrets = [self._get_secret("webhook_secret")]
        until = self.webhook_previous_valid_until
        if until and until > fields.Datetime.now():
            secrets.append(self._get_secret("webhook_secret_previous"))
        return [s for s in secrets if s]
