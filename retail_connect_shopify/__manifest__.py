{
    "name": "Retail Connect – Shopify",
    "summary": "Shopify Admin GraphQL: orders, customers, stock, fulfilments, refunds",
    "version": "18.0.1.1.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "sale_stock", "stock_delivery", "account"],
    "external_dependencies": {"python": ["requests", "phonenumbers"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_connect_shopify_security.xml",
        "views/retail_backend_views.xml",
        "views/shopify_catalog_views.xml",
        "report/shopify_report_views.xml",
        "wizards/shopify_map_sku_views.xml",
        "data/retail_connect_shopify_data.xml",
        "data/shopify_catalog_data.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "retail_connect_shopify/static/tests/tours/*.js",
        ],
    },
    "demo": ["demo/retail_connect_shopify_demo.xml"],
}
