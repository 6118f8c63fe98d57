{
    "name": "Retail Connect – Amazon",
    "summary": "Amazon SP-API: orders in, shipments and listing quantities out",
    "version": "18.0.1.1.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "sale_stock", "stock_delivery", "account"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_connect_amazon_security.xml",
        "views/retail_backend_views.xml",
        "views/amazon_marketplace_views.xml",
        "views/amazon_listing_views.xml",
        "views/amazon_settlement_views.xml",
    ],
}
