from . import test_install
from . import test_backend
from . import test_shipping_order
from . import test_shipping_advice
from . import test_sftp
from . import test_inventory
from . import test_receipt
from . import test_return
