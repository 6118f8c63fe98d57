from . import test_orders
from . import test_stock
from . import test_fulfilment_refund
from . import test_contracts
from . import test_resilience
from . import test_backfill
from . import test_catalog
from . import test_plain_users
