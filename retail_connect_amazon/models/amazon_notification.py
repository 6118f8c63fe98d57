"""ORDER_CHANGE notifications: an accelerator of the order poll.

Polling ``searchOrders`` stays the primary path (Amazon recommends it); a
notification only makes Odoo read its order sooner. Setup (a manager's
button, *Subscribe to ORDER_CHANGE*), per the Notifications API v1
(``notifications.json``,
https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-use-case-guide):

1. ``createDestination`` {``name``, ``resourceSpecification`` {``sqs``
   {``arn``}} or {``eventBridge`` {``region``, ``accountId``}}}: a grantless
   operation, with an LWA token of the client-credentials grant and the
   scope ``sellingpartnerapi::notifications``; a destination of the same
   name already there (``getDestinations``) is reused;
2. ``createSubscription`` ORDER_CHANGE {``payloadVersion`` "1.0",
   ``destinationId``, ``processingDirective`` {``eventFilter``
   {``eventFilterType`` ORDER_CHANGE, ``orderChangeTypes``
   [OrderStatusChange, BuyerRequestedChange]}}} with the seller's token; a
   409 (already subscribed) reads it back with ``getSubscription``.

Inbound (``lib/notifications.py``): the relay posts each notification to the
backend's webhook URL with the webhook secret in ``X-Retail-Connect-Key``;
the inbox stores it once per ``NotificationId``; its job reads the order
with ``getOrder`` (Orders API 2026-01-01, the notification itself carries no
prices nor address) and imports it as the poll does: an order polled and
notified is one sale order, the staler of the two a skipped event.
"""

from urllib.parse import quote, urlsplit

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_connect_base.lib.errors import EventSkipped, RemoteError
from odoo.addons.retail_connect_base.models.common import MANAGER, check_group

from ..lib import mappers
from ..lib.client import AmazonClient, LwaClient
from ..lib.notifications import (
    GRANTLESS_SCOPE,
    NOTIFICATION_TYPE,
    TOPIC,
    AmazonNotificationVerifier,
    order_change,
)

CHANGE_TYPES = ["OrderStatusChange", "BuyerRequestedChange"]


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    amazon_destination_kind = fields.Selection(
        [("sqs", "Amazon SQS queue"), ("eventbridge", "Amazon EventBridge")],
        "Notifications to",
        help="Where Amazon sends the seller's ORDER_CHANGE notifications; a "
        "relay forwards them to this backend's webhook URL (see the README).",
    )
    amazon_sqs_arn = fields.Char(
        "SQS queue ARN", help="arn:aws:sqs:<region>:<account>:<queue>"
    )
    amazon_eventbridge_account = fields.Char("AWS account ID (EventBridge)")
    amazon_eventbridge_region = fields.Char(
        "AWS region (EventBridge)", help="e.g. eu-west-1"
    )
    amazon_destination_id = fields.Char("Notification destination", readonly=True)
    amazon_subscription_id = fields.Char("ORDER_CHANGE subscription", readonly=True)

    # ------------------------------------------------------------- setup
    def action_amazon_subscribe_notifications(self):
        """Create the destination and the ORDER_CHANGE subscription."""
        check_group(self.env, MANAGER)
        self.ensure_one()
        if self.platform != "amazon":
            raise UserError(self.env._("%(name)s is not Amazon.", name=self.name))
        if not self._webhook_secrets():
            raise UserError(
                self.env._(
                    "Set the webhook secret first: the relay sends it with each "
                    "notification, and Odoo refuses notifications without it."
                )
            )
        resource = self._amazon_destination_resource()
        destination = self.amazon_destination_id or self._amazon_destination(resource)
        client = self._amazon_client()
        path = f"/notifications/v1/subscriptions/{NOTIFICATION_TYPE}"
        try:
            answer = client.call(
                "POST",
                path,
                operation="createSubscription",
                json={
                    "payloadVersion": "1.0",
                    "destinationId": destination,
                    "processingDirective": {
                        "eventFilter": {
                            "eventFilterType": NOTIFICATION_TYPE,
                            "orderChangeTypes": CHANGE_TYPES,
                        }
                    },
                },
            )
        except RemoteError as err:
            if err.status != 409:
                raise UserError(str(err)) from err
            # already subscribed (by this app): read it back
            answer = client.call("GET", path, operation="getSubscription")
        subscription = (answer.get("payload") or {}).get("subscriptionId")
        self.sudo().write(
            {
                "amazon_destination_id": destination,
                "amazon_subscription_id": subscription,
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Subscribed to ORDER_CHANGE (subscription %(sub)s, "
                    "destination %(dest)s). The poll goes on: notifications "
                    "only import orders sooner.",
                    sub=subscription,
                    dest=destination,
                ),
            },
        }

    def _amazon_destination_resource(self):
        if self.amazon_destination_kind == "sqs" and self.amazon_sqs_arn:
            return {"sqs": {"arn": self.amazon_sqs_arn.strip()}}
        if (
            self.amazon_destination_kind == "eventbridge"
            and self.amazon_eventbridge_account
            and self.amazon_eventbridge_region
        ):
            return {
                "eventBridge": {
                    "region": self.amazon_eventbridge_region.strip(),
                    "accountId": self.amazon_eventbridge_account.strip(),
                }
            }
        raise UserError(
            self.env._(
                "Choose where Amazon sends notifications (an SQS queue ARN, or "
                "the AWS account and region of EventBridge) on the Amazon tab."
            )
        )

    def _amazon_destination(self, resource):
        """The destination's id: one of this name already made, else a new
        one (grantless calls)."""
        name = f"retail_connect-{self.env.cr.dbname}-{self.id}"[:256]
        client = self._amazon_grantless_client()
        found = client.call(
            "GET", "/notifications/v1/destinations", operation="getDestinations"
        )
        for destination in found.get("payload") or []:
            if destination.get("name") == name:
                return destination["destinationId"]
        try:
            answer = client.call(
                "POST",
                "/notifications/v1/destinations",
                operation="createDestination",
                json={"name": name, "resourceSpecification": resource},
            )
        except RemoteError as err:
            raise UserError(
                self.env._("Amazon refused the destination: %(error)s", error=str(err))
            ) from err
        return answer["payload"]["destinationId"]

    def _amazon_grantless_client(self):
        """A client with a token of the client-credentials grant (scope
        notifications): destinations belong to the app, not to a seller."""
        self._assert_can_call(
            check_state=not self.env.context.get("retail_connect_connection_test")
        )
        client_secret = self._get_secret("client_secret")
        if not (self.client_id and client_secret):
            raise UserError(
                self.env._("Set the LWA client ID and client secret first.")
            )
        url = self._amazon_lwa_url()
        self._assert_host_matches_environment(url)
        parts = urlsplit(url)
        lwa = LwaClient(
            f"{parts.scheme}://{parts.netloc}",
            on_exchange=self._log_exchange,
            attempt=self._job_attempt(),
        )
        token = lwa.request(
            "POST",
            parts.path or "/auth/o2/token",
            operation="lwa.token",
            data={
                "grant_type": "client_credentials",
                "scope": GRANTLESS_SCOPE,
                "client_id": self.client_id,
                "client_secret": client_secret,
            },
        ).json()["access_token"]
        return self._http_client(
            AmazonClient,
            token=token,
            operation_limiter=self._amazon_take_token,
            operation_budget=self._amazon_observe_budget,
        )

    # ----------------------------------------------------------- inbound
    def _get_webhook_verifier(self):
        if self.platform != "amazon":
            return super()._get_webhook_verifier()
        return AmazonNotificationVerifier(
            self._webhook_secrets(), self.amazon_seller_id
        )

    def _process_event(self, event):
        if self.platform != "amazon" or event.topic != TOPIC:
            return super()._process_event(event)
        change = order_change(event._data())
        order_id = change.get("AmazonOrderId")
        if not order_id:
            raise EventSkipped("skipped_policy", "a notification without order")
        answer = self._amazon_client().call(
            "GET",
            f"/orders/2026-01-01/orders/{quote(order_id, safe='')}",
            operation="getOrder",
            params={"includedData": mappers.INCLUDED_DATA},
        )
        return self._amazon_import_order(answer["order"])
