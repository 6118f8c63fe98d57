"""Contract drift (issue 13): what a platform sends against what we consume.

* Inbound: a sample of the payloads (``contract_sample_rate``; every payload
  whose processing failed) is checked against the schema the platform addon
  ships for its pinned API version (``lib/contract.py``). Each unknown,
  missing or retyped field opens ONE sync exception of category ``drift`` per
  (backend, API version, payload type, field), bumped once per payload.
* Outbound: a platform's deprecation notices (Shopify's
  ``X-Shopify-API-Deprecated-Reason``) open the same exceptions.
* API versions carry their end of support (``_api_version_info``); a daily cron
  opens an exception 90 days ahead, saying what to change.
"""

import logging
import os
import zlib

from odoo import api, fields, models

from ..lib import contract
from .retail_sync_policy import TECHNICAL

_logger = logging.getLogger(__name__)

SUPPORT_NOTICE_DAYS = 90
SEVERITY = {"missing": "high", "type": "high", "unknown": "low"}


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    contract_sample_rate = fields.Float(
        "Contract check sample (%)",
        default=10.0,
        help="Share of the inbound payloads checked against the platform's "
        "contract of the pinned API version (0: only those whose processing "
        "failed, which are always checked; 100: all).",
    )
    api_support_end = fields.Date(
        "API version supported until",
        compute="_compute_api_support",
        help="The day the platform stops supporting the pinned API version "
        "(empty: no end published).",
    )
    api_support_note = fields.Char(
        "API version support", compute="_compute_api_support"
    )

    _sql_constraints = [
        (
            "contract_sample_rate_range",
            "CHECK(contract_sample_rate >= 0 AND contract_sample_rate <= 100)",
            "The contract check sample is a percentage, from 0 to 100.",
        )
    ]

    @api.depends("platform", "api_version")
    def _compute_api_support(self):
        for backend in self:
            info = (
                backend._api_version_info(backend.api_version)
                if backend.platform
                else {}
            )
            backend.api_support_end = info.get("support_end") or False
            backend.api_support_note = info.get("note") or False

    # ------------------------------------------------------ platform hooks
    def _api_version_info(self, version):
        """What the platform publishes about one of its API versions:
        ``{"support_end": date or None, "note": short text (the source),
        "change": what to change before it ends}``; ``{}``: unknown."""
        return {}

    def _contract_dir(self):
        """Folder of the platform's shipped schemas (``<version>/<type>.json``);
        None: the platform ships none."""
        return None

    def _contract_payload(self, event):
        """``(payload_type, data)``: the part of ``event``'s payload a schema
        describes, or None when no schema covers its topic."""
        return None

    # ----------------------------------------------------------- schemas
    def _contract_version(self):
        """The shipped contract version payloads are checked against: the
        pinned ``api_version`` when shipped, else the platform's default."""
        self.ensure_one()
        folder = self._contract_dir()
        if not folder or not os.path.isdir(folder):
            return None
        shipped = sorted(os.listdir(folder))
        for version in (self.api_version, self._platform_defaults()["api_version"]):
            if version in shipped:
                return version
        return shipped[-1] if shipped else None

    def _contract_schema(self, payload_type):
        version = self._contract_version()
        if not version:
            return None, None
        path = os.path.join(self._contract_dir(), version, f"{payload_type}.json")
        if not os.path.isfile(path):
            return version, None
        return version, contract.load(path)

    def _contract_sampled(self, event):
        """Whether ``event`` is in the sample (stable: the same event always
        is or is not)."""
        rate = self.contract_sample_rate
        if rate >= 100:
            return True
        if rate <= 0:
            return False
        return zlib.crc32(f"{self.id}:{event.id}".encode()) % 10000 < rate * 100

    # ------------------------------------------------------------ inbound
    def _contract_check(self, event, failed=False):
        """Check ``event``'s payload when sampled (always when ``failed``);
        open or bump one drift exception per drifting field. Return the
        exceptions. A fault of the check itself is logged, never raised: it
        must not fail the event it watches."""
        self.ensure_one()
        if not (failed or self._contract_sampled(event)):
            return self.env["retail.sync.exception"]
        try:
            with self.env.cr.savepoint():
                return self._contract_check_payload(event)
        except Exception:  # noqa: BLE001 - the event's own outcome stands
            _logger.exception(
                "retail_connect: the contract check of event %s failed", event.id
            )
            return self.env["retail.sync.exception"]

    def _contract_check_payload(self, event):
        exceptions = self.env["retail.sync.exception"]
        if event.payload_purged:
            return exceptions
        found = self._contract_payload(event)
        if not found:
            return exceptions
        payload_type, data = found
        version, schema = self._contract_schema(payload_type)
        if not schema:
            return exceptions
        for drift in contract.check(schema, data):
            exceptions |= self._drift_open(
                version=version,
                payload_type=payload_type,
                field=drift.field,
                message=self._drift_message(version, payload_type, drift),
                severity=SEVERITY[drift.kind],
                domain=event.domain,
                fix={
                    "kind": drift.kind,
                    "field": drift.field,
                    "api_version": version,
                    "payload_type": payload_type,
                    "expected": drift.expected,
                    "found": drift.found,
                    "first_event_id": event.id,
                },
            )
        return exceptions

    def _platform_label(self):
        return dict(self._fields["platform"]._description_selection(self.env)).get(
            self.platform, self.platform
        )

    def _drift_message(self, version, payload_type, drift):
        """What drifted and what to change (the exception's text)."""
        _ = self.env._
        where = _(
            "Contract drift: %(platform)s API %(version)s, %(type)s payload",
            platform=self._platform_label(),
            version=version,
            type=payload_type,
        )
        if drift.kind == "missing":
            what = _(
                "%(field)s is missing: the connector reads it and the contract "
                "requires it. The platform renamed or dropped it: find its "
                "replacement in the platform's changelog (an unknown-field "
                "exception of the same payload is often the new name), map it in "
                "the connector, then regenerate the contract "
                "(tools/contract_schemas.py). Until then imports that need it "
                "fail or lose it.",
                field=drift.field,
            )
        elif drift.kind == "type":
            what = _(
                "%(field)s no longer has the contract's type (%(expected)s): the "
                "connector may misread it. Check the platform's changelog for "
                "the new type, convert it in the connector's mapper, then "
                "regenerate the contract (tools/contract_schemas.py).",
                field=drift.field,
                expected=drift.expected,
            )
        else:
            what = _(
                "%(field)s is unknown to the contract: the platform added it, or "
                "renamed a field to it (then a missing-field exception of the same "
                "payload names the old one: map the new name in the connector). "
                "If it is only new, regenerate the contract "
                "(tools/contract_schemas.py) to know it. Nothing failed because "
                "of it.",
                field=drift.field,
            )
        return f"{where}: {what}"

    def _drift_open(
        self,
        *,
        version,
        payload_type,
        field,
        message,
        severity="normal",
        domain=TECHNICAL,
        fix=None,
        bump=True,
    ):
        """Open the drift exception of (version, payload type, field), or bump
        the open one (``bump=False``: leave an open one as it is)."""
        self.ensure_one()
        subject = f"drift:{self.platform}:{version}:{payload_type}:{field}"
        Exception_ = self.env["retail.sync.exception"].sudo()
        if not bump:
            existing = Exception_.search(
                [
                    ("backend_id", "=", self.id),
                    ("subject_key", "=", subject),
                    ("state", "in", ("new", "in_progress")),
                ],
                limit=1,
            )
            if existing:
                return existing
        return Exception_._open_or_bump(
            self,
            domain=domain or TECHNICAL,
            category="drift",
            message=message,
            subject_key=subject,
            fix=fix,
            severity=severity,
        )

    # ----------------------------------------------------------- outbound
    def _drift_deprecated(self, version, name, detail=None):
        """The platform says a call used ``name``, deprecated in ``version``:
        one drift exception per name and version (not bumped on every call)."""
        self.ensure_one()
        info = self._api_version_info(version)
        until = info.get("support_end")
        message = self.env._(
            "Contract drift: %(platform)s API %(version)s reports %(field)s as "
            "deprecated%(detail)s. Move the connector to its replacement (the "
            "platform's changelog names it) before %(version)s leaves support "
            "(%(until)s), then regenerate the contract.",
            platform=self._platform_label(),
            version=version,
            field=name,
            detail=f" ({detail})" if detail else "",
            until=until.isoformat() if until else self.env._("no date published"),
        )
        return self._drift_open(
            version=version,
            payload_type="deprecated",
            field=name,
            message=message,
            fix={"kind": "deprecated", "field": name, "api_version": version},
            bump=False,
        )

    # ------------------------------------------------------ end of support
    def _api_support_days(self, today=None):
        """Days until the pinned version leaves support (None: no end known)."""
        self.ensure_one()
        if not self.api_support_end:
            return None
        return (self.api_support_end - (today or fields.Date.context_today(self))).days

    def _api_support_message(self, days):
        info = self._api_version_info(self.api_version)
        _ = self.env._
        when = (
            _("left support on %(date)s", date=self.api_support_end.isoformat())
            if days < 0
            else _(
                "leaves support on %(date)s (in %(days)s days)",
                date=self.api_support_end.isoformat(),
                days=days,
            )
        )
        return _(
            "%(platform)s API %(version)s %(when)s. What to change: %(change)s",
            platform=self._platform_label(),
            version=self.api_version,
            when=when,
            change=info.get("change")
            or _("pin a supported version on the backend and in the connector."),
        )

    @api.model
    def _cron_api_support(self, days=SUPPORT_NOTICE_DAYS, today=None):
        """Open (or bump, daily) one exception per backend whose pinned API
        version leaves support within ``days``. Return them."""
        exceptions = self.env["retail.sync.exception"]
        backends = self.sudo().search([("state", "!=", "draft")])
        for backend in backends:
            left = backend._api_support_days(today)
            if left is None or left > days:
                continue
            exceptions |= backend._drift_open(
                version=backend.api_version,
                payload_type="api",
                field="support",
                message=backend._api_support_message(left),
                severity="high" if left <= 30 else "normal",
                fix={
                    "kind": "support",
                    "api_version": backend.api_version,
                    "support_end": backend.api_support_end.isoformat(),
                },
            )
        return exceptions

    def _health_checks(self, stats):
        checks = super()._health_checks(stats)
        left = self._api_support_days()
        if left is not None and left <= SUPPORT_NOTICE_DAYS:
            checks.append(
                ("error" if left < 0 else "warning", self._api_support_message(left))
            )
        return checks
