from . import retail_backend
from . import threepl_message
from . import threepl_setup
from . import threepl_shipping_order
from . import threepl_shipping_advice
from . import threepl_sftp_inbox
from . import stock_picking
from . import threepl_receipt
