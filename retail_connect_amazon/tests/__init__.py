from . import test_install
from . import test_backend
from . import test_client
from . import test_orders
from . import test_contracts
from . import test_shipments
from . import test_stock
from . import test_feeds
