"""Stock changes told to the channels, once per location and batch of moves.

Every quant update (a reservation, a move done) must reach each platform's
next stock push: Shopify marks its stock levels dirty, Amazon its listings
(``stock.quant._retail_mark_stock``, which platforms extend). Told quant by
quant, reserving a batch of 30 moves called each platform's marking 60 times,
a flush and two statements each (issue 8: ~17 % of a reservation job). The
moves' reservation (``stock.move._action_assign``) and completion
(``_action_done``) now collect the changes and tell the platforms once per
location, with every product changed there; a quant updated anywhere else is
told at once, as before.
"""

from contextlib import contextmanager

from odoo import api, models

MARKS = "retail_connect_stock_marks"  # cursor cache: location id -> product ids


@contextmanager
def collected_marks(env):
    """Collect the stock changes of the block; tell the platforms after it
    (not when it raises: its transaction is rolled back). Nested blocks leave
    them to the outermost."""
    cache = env.cr.cache
    if MARKS in cache:
        yield
        return
    marks = cache[MARKS] = {}
    try:
        yield
    finally:
        cache.pop(MARKS, None)
    quants = env["stock.quant"]
    for location_id, product_ids in marks.items():
        quants._retail_mark_stock(
            env["product.product"].browse(sorted(product_ids)),
            env["stock.location"].browse(location_id),
        )


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _update_available_quantity(self, product_id, location_id, *args, **kwargs):
        result = super()._update_available_quantity(
            product_id, location_id, *args, **kwargs
        )
        self._retail_stock_changed(product_id, location_id)
        return result

    def _update_reserved_quantity(self, product_id, location_id, *args, **kwargs):
        result = super()._update_reserved_quantity(
            product_id, location_id, *args, **kwargs
        )
        self._retail_stock_changed(product_id, location_id)
        return result

    @api.model
    def _retail_stock_changed(self, product, location):
        if not product or not location:
            return
        marks = self.env.cr.cache.get(MARKS)
        if marks is not None:
            marks.setdefault(location.id, set()).add(product.id)
            return
        self._retail_mark_stock(product, location)

    @api.model
    def _retail_mark_stock(self, products, location):
        """The stock of ``products`` at ``location`` changed: platforms mark
        what their next stock push must send (and queue that push)."""
        return None


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        with collected_marks(self.env):
            return super()._action_assign(force_qty=force_qty)

    def _action_done(self, cancel_backorder=False):
        with collected_marks(self.env):
            return super()._action_done(cancel_backorder=cancel_backorder)
