{
    "name": "Retail Connect – 3PL",
    "summary": "Send deliveries to a third-party logistics warehouse, track them",
    "version": "18.0.1.1.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "stock", "sale_stock", "stock_delivery"],
    "external_dependencies": {"python": ["requests", "paramiko"]},
    "data": [
        "security/ir.model.access.csv",
        "security/retail_connect_3pl_security.xml",
        "data/ir_cron_data.xml",
        "views/retail_backend_views.xml",
        "views/threepl_message_views.xml",
        "views/threepl_inventory_views.xml",
        "views/retail_connect_3pl_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "retail_connect_3pl/static/tests/tours/*.js",
        ],
    },
}
