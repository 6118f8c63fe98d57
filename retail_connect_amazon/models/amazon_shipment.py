"""Shipments out: a done delivery of a merchant-fulfilled (MFN) order is
confirmed to Amazon with ``confirmShipment`` (Orders API v0, still current:
``POST /orders/v0/orders/{orderId}/shipmentConfirmation``, 2 calls/s, burst
10, 204 on success; ``ordersV0.json``).

One call per package: a delivery whose goods were put in several packages
confirms each with its items (Amazon: "partial shipments ... one package per
call"); a delivery without packages is one package. ``packageReferenceId``
("uniquely identifies a package within the scope of an order. Only positive
numeric values") is the delivery's id times 1000 plus the package's rank, the
same on every try. confirmShipment takes no idempotency key: before sending,
the order's packages are read back (getOrder with PACKAGES) and a package a
previous try already confirmed is not sent again; the delivery's binding
records the packages once all are confirmed.
"""

from odoo import fields, models

from odoo.addons.retail_connect_base.lib.errors import ValidationSyncError

from ..lib import mappers


class DeliveryCarrier(models.Model):
    _inherit = "delivery.carrier"

    amazon_carrier_code = fields.Char(
        "Amazon carrier code",
        help="The carrier as Amazon knows it (UPS, USPS, FedEx, DHL, "
        "Royal Mail...); empty: 'Other' with the carrier's name.",
    )


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _job_amazon_confirm_shipment(self, picking):
        """Confirm a done delivery's packages to Amazon (idempotent)."""
        self.ensure_one()
        return self._run_outbound(
            "shipment",
            f"shipment:{picking.id}",
            self._amazon_confirm_shipment,
            picking,
            record=picking,
        )

    def _amazon_confirm_shipment(self, picking):
        bindings = self.env["retail.binding"]
        if bindings._lookup_record(self, picking):
            return "already confirmed"
        order_binding = bindings._lookup_record(self, picking.sale_id)
        if not order_binding:
            return "not an Amazon order of this backend"
        extra = order_binding.extra or {}
        if extra.get("fulfilled_by") == mappers.AMAZON:
            return "fulfilled by Amazon: nothing to confirm"
        order_id = order_binding.external_id
        packages = self._amazon_packages(picking, order_id)
        if not packages:
            return "no Amazon item in this delivery"
        trackings = [
            ref.strip()
            for ref in (picking.carrier_tracking_ref or "").split(",")
            if ref.strip()
        ]
        if not trackings:
            raise ValidationSyncError(
                f"{picking.name}: no tracking number; Amazon needs one to confirm "
                "the shipment. Set it on the delivery, then press Retry.",
                subject_key=f"order:{order_id}",
            )
        code = picking.carrier_id.amazon_carrier_code or "Other"
        client = self._amazon_client()
        done = self._amazon_confirmed_packages(client, order_id)
        sent = []
        for rank, (reference, items) in enumerate(packages):
            if reference in done:
                continue
            detail = {
                "packageReferenceId": reference,
                "carrierCode": code,
                # one tracking number per package when the carrier gave one
                # each, else the delivery's for every package
                "trackingNumber": trackings[rank]
                if len(trackings) == len(packages)
                else trackings[0],
                "shipDate": mappers.iso(picking.date_done or fields.Datetime.now()),
                "orderItems": items,
            }
            if code == "Other":
                detail["carrierName"] = picking.carrier_id.name or self.env._(
                    "Own delivery"
                )
            if picking.carrier_id.name and code != "Other":
                detail["shippingMethod"] = picking.carrier_id.name
            self._call_in_job(
                client.call,
                "POST",
                f"/orders/v0/orders/{order_id}/shipmentConfirmation",
                operation="confirmShipment",
                json={
                    "marketplaceId": extra.get("marketplace"),
                    "packageDetail": detail,
                },
            )
            sent.append(reference)
        bindings._bind(
            self,
            picking,
            f"{order_id}:{picking.id}",
            external_ref=picking.name,
            extra={"packages": [reference for reference, _items in packages]},
        )
        return f"{len(sent)} package(s) confirmed" + (
            f", {len(packages) - len(sent)} confirmed by an earlier try"
        ) * (len(packages) > len(sent))

    def _amazon_packages(self, picking, order_id):
        """``[(packageReferenceId, [{orderItemId, quantity}])]`` of a delivery:
        one entry per package it was packed in (or one for all)."""
        bindings = self.env["retail.binding"]
        by_package = {}
        for line in picking.move_line_ids.filtered(
            lambda ml: ml.quantity and ml.move_id.sale_line_id
        ):
            binding = bindings._lookup_record(self, line.move_id.sale_line_id)
            if not binding:
                continue
            item_id = binding.external_id.split(":", 1)[1]
            package = line.result_package_id.id or 0
            items = by_package.setdefault(package, {})
            items[item_id] = items.get(item_id, 0) + int(line.quantity)
        result = []
        for rank, package in enumerate(sorted(by_package), start=1):
            reference = str(picking.id * 1000 + rank)
            result.append(
                (
                    reference,
                    [
                        {"orderItemId": item_id, "quantity": quantity}
                        for item_id, quantity in sorted(by_package[package].items())
                    ],
                )
            )
        return result

    def _amazon_confirmed_packages(self, client, order_id):
        """Package references Amazon already has for the order."""
        order = self._call_in_job(
            client.call,
            "GET",
            f"/orders/2026-01-01/orders/{order_id}",
            operation="getOrder",
            params={"includedData": "PACKAGES"},
        )
        order = order.get("order") or order
        return {
            str(package.get("packageReferenceId"))
            for package in order.get("packages") or []
        }
