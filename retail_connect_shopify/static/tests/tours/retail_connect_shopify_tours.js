/**
 * Tours of a Shopify shop's day in the UI (test_tours.py starts them):
 * setting a shop up from an empty backend form, and resolving a sync
 * exception with its fix. Every step waits for its element: no sleeps.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import {
    field,
    fieldFromParameter,
    newBackend,
    openRetailConnectMenu,
    runSetupStep,
    setupStep,
} from "@retail_connect_base/../tests/tour_utils";

registry.category("web_tour.tours").add("retail_connect_shopify_setup", {
    url: "/odoo",
    steps: () => [
        ...newBackend(),
        {
            content: "a new backend shows every setup step to do",
            trigger: `${setupStep("credentials", "todo")}`,
        },
        {
            trigger: field("name"),
            run: "edit Acme web shop",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='platform'] select",
            run: 'select "shopify"',
        },
        {
            content: "the platform's own fields appear, the API key it does not use hides",
            trigger:
                ".o_form_view:not(:has(.o_field_widget[name='api_key'])) " +
                ".o_field_widget[name='shopify_shop_domain'] input",
            run: "edit acme.myshopify.com",
        },
        fieldFromParameter(
            "base_url",
            "retail_connect_shopify.tour_base_url",
            "the sandbox's address",
        ),
        fieldFromParameter("access_token", "retail_connect_shopify.tour_token"),
        fieldFromParameter("webhook_secret", "retail_connect_shopify.tour_secret"),
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "saved: the credentials step is done",
            trigger: setupStep("credentials", "done"),
        },
        ...runSetupStep("connection"),
        {
            content: "the last check shows without reloading the page",
            trigger: ".o_form_view .o_field_widget[name='last_check_at']:not(:empty)",
        },
        ...runSetupStep("activation"),
        ...runSetupStep("webhooks"),
        ...runSetupStep("policies"),
        {
            content: "the backend is active",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='active']",
        },
    ],
});

registry.category("web_tour.tours").add("retail_connect_shopify_order_in_sales", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("sale.sale_menu_root", "Open Sales"),
        {
            content: "the imported order is listed under its channel's number",
            trigger: ".o_list_view .o_data_row:contains(#1001) .o_data_cell",
            run: "click",
        },
        {
            content: "its form shows the channel's order number",
            trigger: ".o_form_view .o_field_widget[name='retail_channel_ref']:contains(#1001)",
        },
    ],
});

registry.category("web_tour.tours").add("retail_connect_shopify_map_sku", {
    url: "/odoo",
    steps: () => [
        ...openRetailConnectMenu("retail_connect_base.menu_sync_exception"),
        {
            content: "the open exception of the unknown SKU",
            trigger: ".o_list_view .o_data_row:contains(CAP-404) .o_data_cell",
            run: "click",
        },
        {
            content: "its fix",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Map SKU)",
            run: "click",
        },
        {
            content: "the wizard is prefilled with the line's SKU",
            trigger: ".modal .o_field_widget[name='sku']:contains(CAP-404)",
        },
        {
            trigger: ".modal .o_field_widget[name='product_id'] input",
            run: "edit Blue cap",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(Blue cap)",
            run: "click",
        },
        {
            trigger: ".modal button[name='action_map_and_retry']",
            run: "click",
        },
        {
            content: "the order is retried: the exception is in progress",
            trigger:
                "body:not(:has(.modal)) .o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='in_progress']",
        },
    ],
});
