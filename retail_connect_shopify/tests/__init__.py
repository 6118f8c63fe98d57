from . import test_install
from . import test_orders
from . import test_stock
from . import test_fulfilment_refund
