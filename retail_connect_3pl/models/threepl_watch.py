"""The warehouse provider's backlog in the live overview and the metrics
(``retail.backend._watch_platform_figures``, the base's hook)."""

from odoo import fields, models

from .retail_backend import PLATFORM


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    def _watch_platform_figures(self):
        result = super()._watch_platform_figures()
        # one read_group for all of them (``_compute_threepl_backlog``)
        for backend in self.filtered(lambda b: b.platform == PLATFORM):
            age = backend.threepl_backlog_age_minutes
            result.setdefault(backend.id, []).extend(
                [
                    {
                        "metric": "threepl_backlog_messages",
                        "label": self.env._("3PL backlog"),
                        "value": backend.threepl_backlog_count,
                        "display": self.env._(
                            "%(count)s waiting (oldest %(age)s min)",
                            count=backend.threepl_backlog_count,
                            age=age,
                        )
                        if backend.threepl_backlog_count
                        else "0",
                        "help": "Outbound messages not sent to the 3PL yet.",
                        "total": "sum",
                    },
                    {
                        "metric": "threepl_backlog_oldest_seconds",
                        "label": self.env._("3PL oldest waiting (s)"),
                        "value": int(
                            (
                                fields.Datetime.now() - backend.threepl_backlog_since
                            ).total_seconds()
                        )
                        if backend.threepl_backlog_since
                        else 0,
                        "help": "Age of the oldest message waiting for the 3PL.",
                        "total": "max",
                        "hidden": True,
                    },
                ]
            )
        return result
