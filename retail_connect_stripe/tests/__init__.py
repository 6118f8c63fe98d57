from . import test_install
from . import test_backend
from . import test_webhooks
from . import test_payments
from . import test_refunds
from . import test_payouts
from . import test_contract_drift
from . import test_tours
