import json

from odoo import fields, models
from odoo.tools import float_compare, float_round

from odoo.addons.retail_connect_base.lib.errors import (
    ConflictError,
    EventSkipped,
    MappingError,
)
from odoo.addons.retail_connect_base.lib.webhook import Delivery

from ..lib import documents as gql
from ..lib import mappers
from .retail_backend import IMPORT_CONTEXT

LINE_PAGE_COST = 860  # a page of 50 line items with their money and taxes


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    shopify_import_test_orders = fields.Boolean(
        "Import test orders",
        help="Orders paid with the Bogus Gateway or a payment provider in test "
        "mode (Shopify's test: true) are skipped unless this is set.",
    )
    shopify_pos_orders = fields.Selection(
        [("skip", "Skip"), ("import", "Import")],
        "Point of sale orders",
        default="skip",
        required=True,
        help="Orders of Shopify POS (source pos): sold and handed over at the "
        "store. Imported, they get the POS sales team and warehouse below.",
    )
    shopify_pos_team_id = fields.Many2one("crm.team", "POS sales team")
    shopify_pos_warehouse_id = fields.Many2one("stock.warehouse", "POS warehouse")
    shopify_custom_product_id = fields.Many2one(
        "product.product",
        "Custom item product",
        domain=[("type", "=", "service")],
        help="Service product of custom line items (no product, no SKU).",
    )
    shopify_tip_product_id = fields.Many2one(
        "product.product", "Tip product", domain=[("type", "=", "service")]
    )
    shopify_gift_card_product_id = fields.Many2one(
        "product.product",
        "Gift card product",
        domain=[("type", "=", "service")],
        help="Service product of the gift cards sold (paying with a gift card "
        "is a payment: the order's lines do not change).",
    )
    shopify_duties_product_id = fields.Many2one(
        "product.product",
        "Duties product",
        domain=[("type", "=", "service")],
        help="Service product of the import duties charged at checkout.",
    )
    shopify_discount_product_id = fields.Many2one(
        "product.product",
        "Discount product",
        domain=[("type", "=", "service")],
        help="Service product of the discount lines of imported orders: a "
        "discount no percentage gives back to the cent (large lines).",
    )

    def _poll(self, policy, since, until):
        if self.platform != "shopify":
            return super()._poll(policy, since, until)
        if policy.domain != "order":
            return []
        deliveries = []
        for node in self._shopify_client().paginate(
            gql.SYNC_ORDERS,
            {"first": 100, "q": f"updated_at:>='{since.isoformat()}Z'"},
            operation="SyncOrders",
            path=("orders",),
            cost=50,
        ):
            numeric = mappers.numeric_id(node["id"])
            deliveries.append(
                Delivery(
                    topic="orders/polled",
                    dedup_key=f"poll:{node['id']}:{node['updatedAt']}",
                    payload=json.dumps(
                        {
                            "id": int(numeric),
                            "admin_graphql_api_id": node["id"],
                            "updated_at": node["updatedAt"],
                        }
                    ).encode(),
                    subject_key=f"order:{numeric}",
                    remote_updated_at=mappers.parse_time(node["updatedAt"]),
                )
            )
        return deliveries

    def _shopify_import_order(self, gid, event=None, order=None):
        """Create or update the sale order of a Shopify order (idempotent).

        The webhook only says *which* order changed: its current state is read
        from Shopify, under a lock on the order id, so duplicates, reorders and
        concurrent deliveries all end in one correct sale order.
        """
        self.ensure_one()
        bindings = self.env["retail.binding"]
        self._lock_external("sale.order", gid)
        binding = bindings._lookup(self, "sale.order", gid)
        hinted = event.remote_updated_at if event else None
        if binding and hinted and binding.remote_updated_at:
            # timestamps have one-second precision: only strictly older is stale
            if mappers.naive_utc(hinted) < binding.remote_updated_at:
                raise EventSkipped(
                    "skipped_stale",
                    f"{binding.external_ref}: Odoo already has the change of "
                    f"{binding.remote_updated_at}",
                )
        if order is None:
            order = (
                self._shopify_client()
                .graphql(gql.ORDER_BY_ID, {"id": gid}, operation="OrderById", cost=950)
                .get("order")
            )
        if not order:
            raise self._shopify_missing_order(gid)
        self._shopify_read_all_lines(order)
        updated = mappers.naive_utc(order["updatedAt"])
        if binding and binding._is_stale(updated):
            raise EventSkipped("skipped_stale", f"{order['name']} changed since")
        bound = {
            "external_ref": order["name"],
            "remote_updated_at": updated,
            "payload_digest": bindings._digest(order),
        }
        sale = binding._record() if binding else None
        if sale:
            self._shopify_update_order(sale, order)
            bindings._bind(self, sale, gid, **bound)
        else:
            if order.get("cancelledAt"):
                raise EventSkipped(
                    "skipped_policy", f"{order['name']} was cancelled before import"
                )
            self._shopify_check_source(order)
            sale = self._shopify_create_order(order, gid, bound)
        # shown on the order: the status Shopify reports (base: retail_channel.py)
        sale._retail_channel_status(
            order.get("displayFinancialStatus"), order.get("displayFulfillmentStatus")
        )
        # its transactions, booked by the payments flow (shopify_payment.py)
        self._shopify_queue_payments(order)
        return sale

    def _shopify_create_order(self, order, gid, bound):
        """Create the sale order of ``order``, bound to ``gid`` with ``bound``
        (the binding's values), its lines to Shopify's line items."""
        subject = f"order:{mappers.numeric_id(order['id'])}"
        partner, invoice, delivery = self._shopify_partners(order)
        pos = order.get("sourceName") == "pos"
        pricelist = self._shopify_pricelist(order["currencyCode"], order, subject)
        currency = pricelist.currency_id or self.company_id.currency_id
        lines, discount_lines = [], []
        # one query each for the whole order: bound variants, taxes by rates
        bound_products = self._shopify_bound_products(mappers.order_lines(order))
        taxes_of = {}

        def line_taxes(line):
            key = tuple(line["tax_rates"])
            if key not in taxes_of:
                taxes_of[key] = self._shopify_taxes(line, order, subject)
            return taxes_of[key]

        for line in mappers.order_lines(order):
            plain = not (line["gift_card"] or line["tip"])
            product = (
                plain and bound_products.get(line["variant_id"])
            ) or self._shopify_product(line, order, subject)
            taxes = line_taxes(line)
            percent = self._shopify_discount_percent(line, currency)
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": product.id,
                        "name": line["title"],
                        "product_uom_qty": line["quantity"],
                        "price_unit": line["price_unit"],
                        "discount": percent or 0.0,
                        "tax_id": [(6, 0, taxes)],
                    },
                )
            )
            if percent is None:
                # after every product line: the bindings below pair the
                # first lines of the order with Shopify's line items
                discount_lines.append(
                    (
                        0,
                        0,
                        {
                            "product_id": self._shopify_discount_product().id,
                            "name": self.env._(
                                "Discount on %(line)s", line=line["title"]
                            ),
                            "product_uom_qty": 1,
                            "price_unit": -line["discount_amount"],
                            "tax_id": [(6, 0, taxes)],
                        },
                    )
                )
        for ship in mappers.shipping_lines(order):
            name = ship["title"]
            if ship["discount"]:
                name = self.env._(
                    "%(title)s (discount %(amount)s)",
                    title=name,
                    amount=f"{ship['discount']:.2f}",
                )
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": self._shopify_shipping_product().id,
                        "name": name,
                        "product_uom_qty": 1,
                        "price_unit": ship["price_unit"],
                        "tax_id": [(6, 0, line_taxes(ship))],
                    },
                )
            )
        # one duties line per set of taxes charged on duties (Duty.taxLines):
        # the customer paid them, Odoo's total includes them
        for duty in mappers.duties(order):
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": self._shopify_duties_product().id,
                        "name": self.env._("Duties (Shopify)"),
                        "product_uom_qty": 1,
                        "price_unit": duty["price_unit"],
                        "tax_id": [(6, 0, line_taxes(duty))],
                    },
                )
            )
        lines += discount_lines
        values = {
            **self._sale_order_defaults(),
            "partner_id": partner.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": delivery.id,
            "company_id": self.company_id.id,
            "client_order_ref": order["name"],
            "origin": f"Shopify {order['name']}",
            "date_order": mappers.naive_utc(order["createdAt"]),
            "pricelist_id": pricelist.id if pricelist else False,
            "note": order.get("note") or False,
            "order_line": lines,
            # the channel as its binding will show it (retail_channel.py):
            # set now, the binding has nothing left to write on the order
            "retail_backend_id": self.id,
            "retail_channel_ref": order["name"],
        }
        if pos and self.shopify_pos_team_id:
            values["team_id"] = self.shopify_pos_team_id.id
        warehouse = self.shopify_location_ids.filtered("warehouse_id")[:1].warehouse_id
        if pos and self.shopify_pos_warehouse_id:
            warehouse = self.shopify_pos_warehouse_id
        if warehouse:
            values["warehouse_id"] = warehouse.id
        sale = self.env["sale.order"].with_context(**IMPORT_CONTEXT).create(values)
        if sale.currency_id.name != order["currencyCode"]:
            raise MappingError(
                f"{order['name']} is in {order['currencyCode']}, Odoo would book "
                f"it in {sale.currency_id.name}: set a pricelist in "
                f"{order['currencyCode']} on the backend, then retry.",
                subject_key=subject,
                fix={"currency": order["currencyCode"]},
            )
        self._shopify_check_total(sale, order, subject)
        # the order and its lines in one lookup and one INSERT
        self.env["retail.binding"]._bind_many(
            self,
            [(sale, gid, bound)]
            + [
                (sale_line, line["line_id"], {"external_ref": line["sku"]})
                for line, sale_line in zip(
                    mappers.order_lines(order), sale.order_line, strict=False
                )
            ],
        )
        if mappers.should_confirm(
            self.shopify_confirm_on, order.get("displayFinancialStatus")
        ):
            # with the batch's orders when the event is applied in a batch
            self._confirm_imported(sale.with_context(**IMPORT_CONTEXT))
        return sale

    def _shopify_read_all_lines(self, order):
        """Complete ``order``'s line items beyond their first page, cursor
        after cursor (an order has as many lines as the customer bought)."""
        connection = order.get("lineItems") or {}
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return order
        connection["nodes"] = list(connection.get("nodes") or []) + list(
            self._shopify_client().paginate(
                gql.ORDER_LINE_ITEMS,
                {"id": order["id"], "first": 50},
                operation="OrderLineItems",
                path=("order", "lineItems"),
                cost=LINE_PAGE_COST,
                after=info.get("endCursor"),
            )
        )
        connection["pageInfo"] = {"hasNextPage": False, "endCursor": None}
        return order

    def _shopify_check_source(self, order):
        """Skip a test order or a POS order the backend does not import."""
        if order.get("test") and not self.shopify_import_test_orders:
            raise EventSkipped(
                "skipped_policy",
                f"{order['name']} is a test order (Import test orders is off)",
            )
        if order.get("sourceName") == "pos" and self.shopify_pos_orders == "skip":
            raise EventSkipped(
                "skipped_policy",
                f"{order['name']} is a point of sale order (set Point of sale "
                "orders to Import to import it)",
            )

    def _shopify_update_order(self, sale, order):
        if order.get("cancelledAt") and sale.state != "cancel":
            shipped = sale.picking_ids.filtered(
                lambda p: p.state == "done" and p.picking_type_code == "outgoing"
            )
            if shipped:
                raise ConflictError(
                    f"{order['name']} was cancelled on Shopify but "
                    f"{', '.join(shipped.mapped('name'))} already shipped: refund "
                    "or return it by hand.",
                    subject_key=f"order:{mappers.numeric_id(order['id'])}",
                )
            sale.with_context(**IMPORT_CONTEXT)._action_cancel()
            return
        if sale.state != "cancel" or not order.get("cancelledAt"):
            # lines, quantities, address edited on Shopify (shopify_order_edit)
            self._shopify_follow_edits(sale, order)
        if sale.state in ("draft", "sent") and mappers.should_confirm(
            self.shopify_confirm_on, order.get("displayFinancialStatus")
        ):
            sale.with_context(**IMPORT_CONTEXT).action_confirm()

    def _shopify_check_total(self, sale, order, subject):
        """Odoo's total must be Shopify's; a cent of rounding is absorbed."""
        expected = mappers.money(order.get("currentTotalPriceSet"))
        diff = round(expected - sale.amount_total, 2)
        if not diff:
            return
        if abs(diff) <= 0.05:
            sale.with_context(**IMPORT_CONTEXT).write(
                {
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": self._shopify_shipping_product().id,
                                "name": self.env._("Rounding (Shopify total)"),
                                "product_uom_qty": 1,
                                "price_unit": diff,
                                "tax_id": [(5,)],
                            },
                        )
                    ]
                }
            )
            return
        raise ConflictError(
            f"{order['name']}: Odoo computes {sale.amount_total:.2f} but Shopify "
            f"charged {expected:.2f}: check the tax mapping of this shop.",
            subject_key=subject,
        )

    def _shopify_pricelist(self, code, order, subject):
        """A pricelist in the order's currency ``code``; none for the company's
        currency without one. Never another currency: its amounts would be
        booked as if they were in it. Missing, a mapping exception says what
        to create."""
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        pricelist = self.shopify_pricelist_id
        if currency.active:
            if pricelist.currency_id == currency:
                return pricelist
            found = self.env["product.pricelist"].search(
                [
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
            if found or currency == self.company_id.currency_id:
                return found
        todo = f"create a pricelist in {code} (Sales › Products › Pricelists)"
        if not currency.active:
            todo = (
                f"activate the currency {code} (Accounting › Configuration › "
                f"Currencies), then {todo}"
            )
        raise MappingError(
            f"{order['name']} is in {code} and Odoo has no pricelist in {code}: "
            f"{todo}, or set one on the backend, then retry.",
            subject_key=subject,
            fix={"currency": code},
        )

    def _shopify_bound_products(self, lines):
        """``{variant id: product}`` of the lines' variants already bound to an
        existing product (gift cards and tips aside), in one lookup; the
        others go through ``_shopify_product``."""
        variants = {
            line["variant_id"]
            for line in lines
            if line["variant_id"] and not line["gift_card"] and not line["tip"]
        }
        if not variants:
            return {}
        bindings = self.env["retail.binding"].search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "product.product"),
                ("external_id", "in", sorted(variants)),
            ]
        )
        products = self.env["product.product"].browse(bindings.mapped("res_id"))
        alive = set(products.exists().ids)
        return {
            b.external_id: products.browse(b.res_id)
            for b in bindings
            if b.res_id in alive
        }

    def _shopify_product(self, line, order, subject):
        if line["gift_card"]:
            return self._shopify_gift_card_product()
        if line["tip"]:
            return self._shopify_tip_product()
        if not line["variant_id"] and not line["sku"]:
            # a custom item: nothing to map it to, ever
            return self._shopify_custom_product()
        bindings = self.env["retail.binding"]
        if line["variant_id"]:
            binding = bindings._lookup(self, "product.product", line["variant_id"])
            if binding and binding._record():
                return binding._record()
        product = self.env["product.product"]
        if line["sku"]:
            product = product.search(
                [
                    ("default_code", "=", line["sku"]),
                    ("company_id", "in", (False, self.company_id.id)),
                ],
                limit=1,
            )
        if not product:
            raise MappingError(
                f"{order['name']}: unknown SKU {line['sku'] or '(none)'} "
                f"({line['title']}): map it to a product, then retry.",
                subject_key=subject,
                fix={"sku": line["sku"], "variant_id": line["variant_id"]},
            )
        if line["variant_id"] and not bindings._lookup_record(self, product):
            bindings._bind(
                self,
                product,
                line["variant_id"],
                external_ref=line["sku"],
                extra={"inventory_item_id": line["inventory_item_id"]},
            )
        return product

    def _shopify_taxes(self, line, order, subject):
        if not line["tax_rates"]:
            return []
        included = bool(order.get("taxesIncluded"))
        taxes = self.env["account.tax"].search(
            [
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("company_id", "=", self.company_id.id),
                ("amount", "in", line["tax_rates"]),
            ]
        )
        ids = []
        for rate in line["tax_rates"]:
            match = taxes.filtered(
                lambda t, r=rate: (
                    not float_compare(t.amount, r, 4) and t.price_include == included
                )
            )[:1]
            if not match:
                raise MappingError(
                    f"{order['name']}: no sale tax of {rate:g}% "
                    f"({'included in' if included else 'excluded from'} prices) in "
                    f"{self.company_id.name}: create it, then retry.",
                    subject_key=subject,
                    fix={"tax_rate": rate, "price_include": included},
                )
            ids.append(match.id)
        return ids

    def _shopify_discount_percent(self, line, currency):
        """The line's discount as Odoo's percentage (``Discount`` digits), if
        it gives Shopify's discounted amount back to the cent; else None and a
        discount line carries the amount (a 2-decimal percentage of a large
        line is off by more than cents)."""
        amount = line["discount_amount"]
        gross = line["price_unit"] * line["quantity"]
        if not amount or not gross:
            return 0.0
        digits = self.env["decimal.precision"].precision_get("Discount")
        percent = float_round(amount / gross * 100, precision_digits=digits)
        net = currency.round(gross * (1 - percent / 100))
        if currency.compare_amounts(net, gross - amount) == 0:
            return percent
        return None

    def _shopify_service_product(self, field, name, code):
        """The backend's service product of ``field``, created on first use
        (no taxes of its own: each line gets Shopify's)."""
        if not self[field]:
            self.sudo()[field] = self.env["product.product"].create(
                {
                    "name": name,
                    "type": "service",
                    "default_code": f"SHOPIFY-{code}-{self.id}",
                    "invoice_policy": "order",
                    "taxes_id": [(5,)],
                    "sale_ok": False,
                    "purchase_ok": False,
                    "company_id": self.company_id.id,
                }
            )
        return self[field]

    def _shopify_shipping_product(self):
        return self._shopify_service_product(
            "shopify_shipping_product_id", self.env._("Shipping (Shopify)"), "SHIPPING"
        )

    def _shopify_custom_product(self):
        return self._shopify_service_product(
            "shopify_custom_product_id", self.env._("Custom item (Shopify)"), "CUSTOM"
        )

    def _shopify_tip_product(self):
        return self._shopify_service_product(
            "shopify_tip_product_id", self.env._("Tip (Shopify)"), "TIP"
        )

    def _shopify_gift_card_product(self):
        return self._shopify_service_product(
            "shopify_gift_card_product_id",
            self.env._("Gift card (Shopify)"),
            "GIFTCARD",
        )

    def _shopify_duties_product(self):
        return self._shopify_service_product(
            "shopify_duties_product_id", self.env._("Duties (Shopify)"), "DUTIES"
        )

    def _shopify_discount_product(self):
        return self._shopify_service_product(
            "shopify_discount_product_id", self.env._("Discount (Shopify)"), "DISCOUNT"
        )
