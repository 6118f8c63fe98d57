from . import shopify_map_sku
