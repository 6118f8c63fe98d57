{
    "name": "Retail Connect – Base",
    "summary": "Governed integration hub: backends, sync policies, bindings, "
    "event inbox, exchange log, sync exceptions, webhooks, secrets",
    "version": "18.0.1.1.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["mail", "queue_job", "sale_stock"],
    "external_dependencies": {
        "python": ["requests", "cryptography", "phonenumbers", "jsonschema"]
    },
    "data": [
        "security/retail_connect_security.xml",
        "security/ir.model.access.csv",
        "security/retail_shadow_security.xml",
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "views/retail_backend_views.xml",
        "views/retail_sync_policy_views.xml",
        "views/retail_binding_views.xml",
        "views/retail_event_views.xml",
        "views/retail_exchange_views.xml",
        "views/retail_sync_exception_views.xml",
        "views/retail_channel_views.xml",
        "views/stock_picking_hold_views.xml",
        "wizards/retail_exception_ignore_views.xml",
        "report/retail_report_views.xml",
        "views/retail_connect_menus.xml",
        "views/retail_governance_views.xml",
        "views/retail_shadow_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "retail_connect_base/static/src/setup_checklist/*",
            "retail_connect_base/static/src/watch_overview/*",
        ],
        "web.assets_tests": [
            "retail_connect_base/static/tests/tour_utils.js",
        ],
    },
    "application": True,
}
