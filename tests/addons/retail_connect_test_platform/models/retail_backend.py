import base64
import json
from datetime import datetime

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import (
    EventSkipped,
    ValidationSyncError,
    WebhookRejected,
)
from odoo.addons.retail_connect_base.lib.http import RetailHttpClient
from odoo.addons.retail_connect_base.lib.webhook import (
    Delivery,
    Verifier,
    hmac_sha256,
    matches_any,
    parse_json,
    parse_timestamp,
)


def parse_time(value):
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TestShopVerifier(Verifier):
    """X-TestShop-Signature = base64(HMAC-SHA256(secret, "<timestamp>." + body))."""

    timestamp_required = True  # every delivery is stamped, and signed with it
    topics = frozenset({"customer/created", "customer/updated"})

    def verify(self, headers, raw_body):
        signature = headers.get("X-TestShop-Signature")
        timestamp = headers.get("X-TestShop-Timestamp", "")
        event_id = headers.get("X-TestShop-Event-Id")
        if not (signature and event_id):
            raise WebhookRejected(401, "missing signature headers")
        message = timestamp.encode() + b"." + raw_body

        def expected(secret):
            return base64.b64encode(hmac_sha256(secret, message)).decode()

        if not matches_any(expected, signature, self.secrets):
            raise WebhookRejected(401, "invalid signature")
        data = parse_json(raw_body)
        customer = data.get("data")
        if not isinstance(customer, dict) or not customer.get("id"):
            raise WebhookRejected(400, "event without data.id")
        return Delivery(
            topic=headers.get("X-TestShop-Topic") or data.get("topic", ""),
            dedup_key=event_id,
            payload=raw_body,
            occurred_at=parse_timestamp(timestamp, "X-TestShop-Timestamp"),
            subject_key=f"customer:{customer['id']}",
            remote_updated_at=parse_timestamp(
                customer.get("updated_at"), "data.updated_at"
            ),
        )


class TestShopClient(RetailHttpClient):
    request_id_header = "X-Request-Id"


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    platform = fields.Selection(
        selection_add=[("testshop", "TestShop (tests only)")],
        ondelete={"testshop": "cascade"},
    )
    # a platform's links to Odoo records, carried by promotion (by natural key)
    testshop_warehouse_id = fields.Many2one("stock.warehouse", "TestShop warehouse")
    testshop_tax_ids = fields.Many2many("account.tax", string="TestShop taxes")

    def _promotion_record_fields(self):
        fields = super()._promotion_record_fields()
        if self.platform == "testshop":
            return (*fields, "testshop_warehouse_id", "testshop_tax_ids")
        return fields

    def _production_host_patterns(self):
        if self.platform == "testshop":
            return ["api.testshop.example", "*.testshop.example"]
        return super()._production_host_patterns()

    def _default_policies(self):
        policies = super()._default_policies()
        if self.platform == "testshop":
            for vals in policies:
                if vals["domain"] == "customer":
                    vals.update(
                        direction="both", system_of_record="platform", timing="hybrid"
                    )
        return policies

    def _event_domain(self, topic):
        if self.platform == "testshop":
            return "customer" if topic.startswith("customer/") else False
        return super()._event_domain(topic)

    def _get_webhook_verifier(self):
        if self.platform == "testshop":
            return TestShopVerifier(self._webhook_secrets())
        return super()._get_webhook_verifier()

    def _testshop_client(self):
        return self._http_client(
            TestShopClient,
            headers={"Authorization": f"Bearer {self._get_secret('access_token')}"},
        )

    def _check_connection(self):
        if self.platform != "testshop":
            return super()._check_connection()
        self._testshop_client().request(
            "GET", "/api/v1/customers", operation="ping", params={"limit": 1}
        )
        return self.env._("TestShop answered.")

    # -------------------------------------------------------------- import
    def _process_event(self, event):
        if self.platform != "testshop":
            return super()._process_event(event)
        data = event._data()
        customer = data.get("data") or data
        if event.topic == "customer/updated":
            # a webhook is a hint: apply the platform's current state
            response = self._testshop_client().request(
                "GET",
                f"/api/v1/customers/{customer['id']}",
                operation="customer.get",
            )
            customer = response.json()
        return self._testshop_import_customer(customer)

    def _testshop_import_customer(self, customer):
        ext_id = customer["id"]
        bindings = self.env["retail.binding"]
        self._lock_external("res.partner", ext_id)
        binding = bindings._lookup(self, "res.partner", ext_id)
        updated = parse_time(customer.get("updated_at"))
        updated_naive = updated.replace(tzinfo=None) if updated else None
        if binding and binding._is_stale(updated_naive):
            raise EventSkipped(
                "skipped_stale",
                f"{ext_id} changed at {updated}, Odoo already has "
                f"{binding.remote_updated_at}",
            )
        email = customer.get("email") or ""
        if "@" not in email:
            raise ValidationSyncError(
                f"Customer {ext_id} has no valid e-mail address ({email!r})",
                subject_key=f"customer:{ext_id}",
                fix={"customer_id": ext_id},
            )
        values = {
            "name": customer.get("name") or email,
            "email": email,
            "phone": customer.get("phone") or False,
        }
        partner = binding._record() if binding else None
        if partner:
            partner.write(values)
        else:
            partner = self.env["res.partner"].create(values)
        bindings._bind(
            self,
            partner,
            ext_id,
            external_ref=ext_id,
            remote_updated_at=updated_naive,
            remote_version=str(customer.get("version") or ""),
            payload_digest=bindings._digest(self._testshop_body(partner)),
        )
        return partner

    def _testshop_body(self, partner):
        return {
            "email": partner.email,
            "name": partner.name,
            "phone": partner.phone or None,
        }

    def _poll(self, policy, since, until):
        if self.platform != "testshop":
            return super()._poll(policy, since, until)
        client = self._testshop_client()
        deliveries, cursor = [], None
        while True:
            params = {"limit": 100, "updated_since": f"{since.isoformat()}Z"}
            if cursor:
                params["cursor"] = cursor
            page = client.request(
                "GET", "/api/v1/customers", operation="customer.list", params=params
            ).json()
            for customer in page["data"]:
                deliveries.append(
                    Delivery(
                        topic="customer/polled",
                        dedup_key=f"poll:{customer['id']}:{customer['version']}",
                        payload=json.dumps({"data": customer}).encode(),
                        subject_key=f"customer:{customer['id']}",
                        remote_updated_at=parse_time(customer["updated_at"]),
                    )
                )
            cursor = page.get("next_cursor")
            if not cursor:
                return deliveries

    # -------------------------------------------------------------- export
    def _job_testshop_export_partner(self, partner):
        """Export job of a partner: failures reported by the base."""
        self.ensure_one()
        return self._run_outbound(
            "customer",
            f"customer-export:{partner.id}",
            lambda: "exported" if self._testshop_export_partner(partner) else "off",
            record=partner,
        )

    def _testshop_export_partner(self, partner):
        """Push a partner: nothing when unchanged, and each write carries the
        key of its place in the running job (``_next_idempotency_key``)."""
        self.ensure_one()
        policy = self._policy("customer")
        if not policy._allows_export():
            return False
        bindings = self.env["retail.binding"]
        binding = bindings._lookup_record(self, partner)
        body = self._testshop_body(partner)
        digest = bindings._digest(body)
        if binding and binding.payload_digest == digest:
            return binding  # nothing changed since the last exchange: no echo
        client = self._testshop_client()
        if binding:
            response = client.request(
                "PUT",
                f"/api/v1/customers/{binding.external_id}",
                operation="customer.update",
                json=body,
            )
        else:
            response = client.request(
                "POST",
                "/api/v1/customers",
                operation="customer.create",
                json=body,
            )
        customer = response.json()
        return bindings._bind(
            self,
            partner,
            customer["id"],
            external_ref=customer["id"],
            remote_updated_at=parse_time(customer["updated_at"]).replace(tzinfo=None),
            remote_version=str(customer["version"]),
            payload_digest=digest,
        )
