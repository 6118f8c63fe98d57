from . import retail_backend
from . import amazon_marketplace
from . import amazon_setup
from . import amazon_order_import
from . import amazon_shipment
from . import stock_picking
from . import amazon_listing
from . import stock_quant
