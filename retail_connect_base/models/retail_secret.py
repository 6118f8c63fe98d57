import functools

from odoo import api, fields, models, tools
from odoo.tools import config

from ..lib import secrets as secret_lib
from .common import create_or_retry


@functools.lru_cache(maxsize=4)
def _cipher(keys):
    return secret_lib.make_cipher(list(keys))


class RetailSecret(models.Model):
    """Encrypted credentials of backends.

    No access rights at all: only ``sudo()`` code of the base reads or writes this
    table, and what it holds is Fernet ciphertext whose key is outside the
    database (see ``lib/secrets.py``).
    """

    _name = "retail.secret"
    _description = "Retail Connect Secret (encrypted)"
    _log_access = False

    backend_id = fields.Many2one(
        "retail.backend", required=True, ondelete="cascade", index=True
    )
    name = fields.Char(required=True)
    ciphertext = fields.Text(required=True)
    updated_at = fields.Datetime(default=fields.Datetime.now)

    _sql_constraints = [
        ("name_uniq", "UNIQUE(backend_id, name)", "One value per secret name.")
    ]

    @api.model
    def _cipher(self):
        return _cipher(tuple(secret_lib.keys_from(config.get(secret_lib.CONFIG_KEY))))

    @api.model
    def _names_set(self, backend_ids):
        result = {}
        for rec in self.search([("backend_id", "in", backend_ids)]):
            result.setdefault(rec.backend_id.id, set()).add(rec.name)
        return result

    @api.model
    @tools.ormcache("backend_id", "name")
    def _read_secret(self, backend_id, name):
        """Clear value (cached per worker: webhooks verify without a query)."""
        rec = self.search([("backend_id", "=", backend_id), ("name", "=", name)])
        if not rec:
            return False
        return secret_lib.decrypt(self._cipher(), rec.ciphertext)

    @api.model
    def _write_secret(self, backend_id, name, value):
        self.env.registry.clear_cache()
        rec = self.search([("backend_id", "=", backend_id), ("name", "=", name)])
        if not value:
            rec.unlink()
            return
        token = secret_lib.encrypt(self._cipher(), value)
        if rec:
            rec.write({"ciphertext": token, "updated_at": fields.Datetime.now()})
        else:
            # two renewals at once (an access token): the second one retries
            values = {"backend_id": backend_id, "name": name, "ciphertext": token}
            create_or_retry(self, values)

    @api.model
    def _rotate_all(self):
        """Re-encrypt every secret with the primary key (after a key rotation)."""
        self.env.registry.clear_cache()
        cipher = self._cipher()
        for rec in self.search([]):
            rec.ciphertext = secret_lib.rotate(cipher, rec.ciphertext)
        return True
