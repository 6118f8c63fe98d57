"""The last payout reconciled, in the live overview and the metrics
(``retail.backend._watch_platform_figures``, the base's hook)."""

from datetime import timezone

from odoo import fields, models

from ..lib.client import to_amount


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _watch_platform_figures(self):
        result = super()._watch_platform_figures()
        mine = self.filtered(lambda b: b.platform == "stripe")
        if not mine:
            return result
        # a reconciled payout is its statement bound to the payout id
        self.env["retail.binding"].flush_model()
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (backend_id) backend_id, external_id,
                   create_date, extra
              FROM retail_binding
             WHERE backend_id IN %s AND res_model = 'account.bank.statement'
             ORDER BY backend_id, create_date DESC, id DESC
            """,
            [tuple(mine.ids)],
        )
        last = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for backend in mine:
            payout, at, extra = last.get(backend.id, (None, None, None))
            if payout:
                code = backend.stripe_currency_id.name or ""
                amount = (extra or {}).get("amount")
                display = self.env._(
                    "%(payout)s at %(at)s%(amount)s",
                    payout=payout,
                    at=fields.Datetime.to_string(at)[:16],
                    amount=f", {to_amount(amount, code):,.2f} {code}"
                    if amount is not None
                    else "",
                )
            else:
                display = self.env._("none yet")
            result.setdefault(backend.id, []).append(
                {
                    "metric": "stripe_last_payout_reconciled_timestamp_seconds",
                    "label": self.env._("Last payout reconciled"),
                    "value": int(at.replace(tzinfo=timezone.utc).timestamp())
                    if at
                    else 0,
                    "display": display,
                    "help": "When the last Stripe payout was reconciled "
                    "(Unix time; 0: none yet).",
                    "total": None,
                }
            )
        return result
