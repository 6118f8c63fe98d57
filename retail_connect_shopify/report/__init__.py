from . import shopify_stock_published
