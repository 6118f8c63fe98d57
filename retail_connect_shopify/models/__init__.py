from . import retail_backend
from . import shopify_location
from . import shopify_stock_level
from . import stock_quant
from . import shopify_fulfilment
from . import stock_picking
from . import shopify_backfill
