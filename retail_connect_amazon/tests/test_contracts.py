"""The connector's usage plans are the official models' defaults."""

import json
import re

from odoo.tests import BaseCase, tagged

from odoo.addons.retail_connect_base.tests.common import contracts_dir

from ..lib.catalog import MODEL_OF, USAGE_PLANS


def usage_plan(model, operation_id):
    for operations in model["paths"].values():
        for op in operations.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                match = re.search(
                    r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", op.get("description", "")
                )
                return (float(match[1]), int(match[2])) if match else None
    return None


@tagged("post_install", "-at_install")
class TestAmazonContracts(BaseCase):
    def test_usage_plans_are_the_models(self):
        folder = contracts_dir("amazon")
        for operation, plan in USAGE_PLANS.items():
            model = json.loads((folder / MODEL_OF[operation]).read_text())
            self.assertEqual(usage_plan(model, operation), plan, operation)
