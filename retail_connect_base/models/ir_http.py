from werkzeug.exceptions import default_exceptions

from odoo import models
from odoo.http import request

from ..lib.errors import WebhookRejected
from ..lib.webhook import check_envelope


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        """Bound a raw-body route's request before anything reads its body.

        Odoo parses form bodies into parameters before the handler runs (and
        reads a chunked body whole): a route declaring
        ``retail_connect_raw_body=True`` refuses those here, first, with a
        plain 4xx, so nothing is parsed or read unbounded.
        """
        routing = rule.endpoint.routing
        if routing.get("retail_connect_raw_body"):
            httprequest = request.httprequest
            try:
                check_envelope(
                    httprequest.mimetype,
                    httprequest.content_length,
                    routing["max_content_length"],
                )
            except WebhookRejected as err:
                answer = request.make_response(
                    err.reason,
                    headers=[("Content-Type", "text/plain")],
                    status=err.status,
                )
                # an HTTPException with its code: answered as is, no session
                raise default_exceptions[err.status](response=answer) from err
        return super()._pre_dispatch(rule, args)
