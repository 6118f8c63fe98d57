"""The official payload examples through a logged exchange: nothing personal or
secret is kept, logged or raised.

The payloads are the platforms' own examples in ``../shared/contracts``
(Shopify REST fixtures and webhook bodies, Stripe's resource fixtures, Amazon's
Orders v0 sandbox answers and order-change notification examples); the test
skips when they are absent unless ``RC_REQUIRE_CONTRACTS=1``. Each one is sent
as a request body to a host that answers it back, once as a success and once as
a refusal (422), through the client every platform uses. What counts as
personal or secret is listed here, by field name, independently of the masking
rule it checks.
"""

import glob
import json
import logging
import re

from werkzeug.wrappers import Request, Response

from odoo.tests import TransactionCase, tagged

from odoo.addons.retail_connect_base.lib.errors import RemoteError
from odoo.addons.retail_connect_base.models.retail_binding import payload_digest
from odoo.addons.retail_connect_base.tests.common import contracts_dir, sandboxes

from .common import TestShopCase, run_jobs

sandboxes()
from sandboxes.toolkit import SandboxServer  # noqa: E402

STRIPE_RESOURCES = (
    "payment_intent",
    "charge",
    "refund",
    "balance_transaction",
    "payout",
    "event",
    "dispute",
    "customer",
)
# field names (lower case, without separators) holding a person's data or a
# credential wherever they appear
PERSONAL = {
    "email",
    "contactemail",
    "receiptemail",
    "buyeremail",
    "phone",
    "firstname",
    "lastname",
    "buyername",
    "address1",
    "address2",
    "addressline1",
    "addressline2",
    "line1",
    "line2",
    "city",
    "zip",
    "postalcode",
    "destinationpostalcode",
    "company",
    "latitude",
    "longitude",
    "browserip",
    "clientip",
    "note",
    "shopowner",
    "accountholdername",
}
SECRET = {"token", "carttoken", "checkouttoken", "clientsecret", "secret"}
# objects in which a bare ``name`` is a person's
PERSON_OBJECTS = {
    "billingaddress",
    "shippingaddress",
    "defaultaddress",
    "addresses",
    "customer",
    "billingdetails",
    "shipping",
    "destination",
    "buyerinfo",
}
WHOLE = {"noteattributes"}  # everything below is personal
TOKEN = "shpat_fake-test-token-not-real"
PERSON_EMAIL = "jane.roe@example.org"


def _norm(key):
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, _norm(key)))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif value not in (None, "") and not isinstance(value, bool):
        yield path, str(value)


def _sensitive(path):
    key = path[-1] if path else ""
    return (
        key in PERSONAL
        or key in SECRET
        or (key == "name" and PERSON_OBJECTS & set(path[:-1]))
        or WHOLE & set(path[:-1])
    )


class Echo:
    """Answers a request's body back, with the status asked in ``?status=``."""

    def __call__(self, environ, start_response):
        request = Request(environ)
        status = int(request.args.get("status", 200))
        body = request.get_data()
        return Response(body, status=status, content_type="application/json")(
            environ, start_response
        )


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@tagged("post_install", "-at_install")
class TestPrivacy(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SandboxServer(Echo()).start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls.env["retail.backend"].create(
            {
                "name": "Echo",
                "platform": "testshop",
                "base_url": cls.server.url,
                "rate_limit_capacity": 1000,
                "rate_limit_per_second": 1000,
            }
        )

    def _payloads(self):
        root = contracts_dir()
        shopify = sorted(
            glob.glob(str(root / "shopify/rest-fixtures/*/*.json"))
            + glob.glob(str(root / "shopify/webhooks/*/*.json"))
        )
        for path in shopify:
            yield path.rsplit("/", 1)[-1], json.loads(open(path).read())
        stripe = json.loads((root / "stripe/fixtures3.json").read_text())
        for name in STRIPE_RESOURCES:
            yield f"stripe.{name}", stripe["resources"][name]
        orders = json.loads((root / "amazon/ordersV0.json").read_text())
        for path, operations in orders["paths"].items():
            for verb, operation in operations.items():
                answer = (operation.get("responses") or {}).get("200") or {}
                for cases in (answer.get("x-amzn-api-sandbox") or {}).values():
                    for case in cases:
                        if case.get("response"):
                            yield f"amazon{path}.{verb}", case["response"]
        notification = json.loads(
            (root / "amazon/OrderChangeNotification.json").read_text()
        )
        for example in notification["examples"]:
            yield "amazon.order_change", example

    def test_contract_payloads_leave_nothing_personal_in_the_log(self):
        payloads = list(self._payloads())
        secret, harmless = {TOKEN, PERSON_EMAIL}, set()
        for _name, payload in payloads:
            harmless.update(_keys(payload))
            for path, value in _leaves(payload):
                (secret if _sensitive(path) else harmless).add(value)
        # a value also found in a harmless field or a key name proves nothing:
        # "US", a date, "client_secret" as a value; also a name quoted in free
        # text (a Shopify event's message "... by Bob Norman"), which is kept:
        # masking judges fields, it does not parse prose for names
        secret = {v for v in secret if not any(v in h for h in harmless)}
        self.assertGreater(len(secret), 25, "the examples hold personal data")
        capture = Capture()
        root_logger = logging.getLogger()
        suite_logger = logging.getLogger("odoo.addons.retail_connect_base")
        level = suite_logger.level
        root_logger.addHandler(capture)
        suite_logger.setLevel(logging.DEBUG)
        raised = []
        try:
            client = self.backend.with_context(
                retail_connect_connection_test=True
            )._http_client(headers={"X-Access-Token": TOKEN})
            query = f"access_token={TOKEN}&email={PERSON_EMAIL}&limit=5"
            for name, payload in payloads:
                client.request("POST", f"/echo?{query}", operation=name, json=payload)
                # not assertRaises: Odoo's rolls back what the block wrote
                try:
                    client.request(
                        "POST", "/echo?status=422", operation=name, json=payload
                    )
                except RemoteError as refused:
                    raised.append(str(refused))
                else:
                    self.fail("a refusal raises")
            client.request(
                "POST",
                "/echo",
                operation="form",
                data={"shipping[name]": "Jenny Rosen", "email": PERSON_EMAIL},
            )
        finally:
            root_logger.removeHandler(capture)
            suite_logger.setLevel(level)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(e)::text FROM retail_exchange e WHERE backend_id = %s",
            (self.backend.id,),
        )
        rows = [row[0] for row in self.env.cr.fetchall()]
        self.assertEqual(len(rows), 2 * len(payloads) + 1)
        stored = "\n".join(rows)
        said = "\n".join(capture.lines + raised)
        for value in sorted(secret | {"Jenny Rosen"}):
            self.assertNotIn(value, stored, "stored in the exchange log")
            self.assertNotIn(value, said, "in a log line or an exception")
        # what is not personal stays readable
        for kept in ("IPOD2008GREEN", "IPod Nano - 8gb", "#1001", "409.94", "limit=5"):
            self.assertIn(kept, stored)


@tagged("post_install", "-at_install")
class TestBindingPrivacy(TestShopCase):
    def test_customer_binding_keeps_no_personal_value(self):
        customer = self.sandbox.add_customer(
            "jane@example.com", "Jane Doe", "+4915112345678"
        )
        self.sandbox.emit("customer/created", customer)
        run_jobs(self.env)
        binding = self.partners_bound()
        self.assertEqual(len(binding), 1)
        self.assertEqual(binding.external_ref, customer["id"])
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(b)::text FROM retail_binding b WHERE id = %s",
            (binding.id,),
        )
        stored = self.env.cr.fetchone()[0]
        for value in ("jane@example.com", "Jane", "4915112345678"):
            self.assertNotIn(value, stored)
        # what was exchanged about her: anyone guessing it must not be able to
        # confirm the guess against the stored digest
        body = self.backend._testshop_body(binding._record())
        self.assertNotEqual(binding.payload_digest, payload_digest(body))
        self.assertEqual(binding.payload_digest, self.Binding._digest(body))
