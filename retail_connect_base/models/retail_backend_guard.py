"""The environment guard: a backend calls only hosts of its environment
(sandbox: loopback and the platform's sandbox hosts; production: the
platform's), production backends only in the production database, never
from a copied database, never while paused."""

import fnmatch
from urllib.parse import urlparse

from odoo import api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from .common import side_cursor
from .retail_backend import (
    LOOPBACK_HOSTS,
    PRODUCTION_DB_OPTION,
)


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    @api.constrains("environment", "base_url", "platform")
    def _check_environment_host(self):
        for backend in self:
            if backend.base_url:
                backend._assert_host_matches_environment(backend.base_url)

    # ------------------------------------------------------- environment guard
    def _db_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def _assert_host_matches_environment(self, url):
        self.ensure_one()
        host = (urlparse(url).hostname or "").lower()
        production = any(
            fnmatch.fnmatch(host, pattern)
            for pattern in self._production_host_patterns()
        )
        if self.environment == "sandbox" and production:
            raise ValidationError(
                self.env._(
                    "%(backend)s is a sandbox backend: it refuses the production "
                    "host %(host)s.",
                    backend=self.name,
                    host=host,
                )
            )
        if self.environment == "production" and (
            host in LOOPBACK_HOSTS
            or any(fnmatch.fnmatch(host, p) for p in self._sandbox_host_patterns())
        ):
            raise ValidationError(
                self.env._(
                    "%(backend)s is a production backend: it refuses the sandbox "
                    "host %(host)s.",
                    backend=self.name,
                    host=host,
                )
            )

    def _assert_can_call(self, check_state=True):
        """Refuse any outbound call a governed backend must not make.

        ``check_state=False`` lets a manager test a draft or paused backend; the
        environment guards (copied database, host vs environment) always apply.
        """
        self.ensure_one()
        if check_state and self.state not in ("active", "error"):
            raise UserError(
                self.env._(
                    "%(backend)s is %(state)s: it makes no calls until activated.",
                    backend=self.name,
                    state=self.state,
                )
            )
        if self.environment == "production" and (reason := self._copy_reason()):
            # the caller's transaction will roll back: the pause must not
            with side_cursor(self.env) as cr:
                cr.execute(
                    "UPDATE retail_backend SET state = 'paused', paused_reason = %s "
                    "WHERE id = %s",
                    (reason, self.id),
                )
            self.invalidate_recordset(["state", "paused_reason"])
            raise UserError(self._paused_message())
        self._assert_host_matches_environment(self._api_url())

    def _copy_reason(self):
        """Why production must not run in this database, or None.

        Not the database the server option names (a restore keeps the uuid),
        or activated in a database with another ``database.uuid``.
        """
        reason = self._not_production_db_reason()
        if reason:
            return reason
        if self.activated_db_uuid != self._db_uuid():
            return self.env._(
                "This database is a copy: production backends are paused until "
                "a manager resumes them."
            )
        return None

    def _not_production_db_reason(self):
        production_db = config.get(PRODUCTION_DB_OPTION)
        if not production_db or production_db == self.env.cr.dbname:
            return None
        return self.env._(
            "This database (%(db)s) is not %(production)s, the production database "
            "named by the server option %(option)s: production backends make no "
            "calls here.",
            db=self.env.cr.dbname,
            production=production_db,
            option=PRODUCTION_DB_OPTION,
        )

    def _paused_message(self):
        return self.env._(
            "%(backend)s is paused: %(reason)s",
            backend=self.name,
            reason=self.paused_reason or "",
        )

    def _api_url(self):
        return self.base_url or self._default_base_url()
