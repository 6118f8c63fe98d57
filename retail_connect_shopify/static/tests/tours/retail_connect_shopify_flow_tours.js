/**
 * Tours of the flows people do by hand on a running shop (issue 12), started
 * by test_tours.py, which asserts what they leave behind: a Shopify location
 * mapped to a warehouse from the backend form, an exception ignored with its
 * reason, an event replayed after its policy was fixed. Every step waits for
 * its element: no sleeps.
 */
import { registry } from "@web/core/registry";
import {
    openBackends,
    openRetailConnectMenu,
    setupStep,
} from "@retail_connect_base/../tests/tour_utils";

const LOCATIONS = ".o_form_view .o_field_widget[name='shopify_location_ids']";

registry.category("web_tour.tours").add("retail_connect_shopify_map_location", {
    url: "/odoo",
    steps: () => [
        ...openBackends(),
        {
            trigger: ".o_list_view .o_data_row:contains(Acme Shopify) .o_data_cell",
            run: "click",
        },
        {
            content: "no location yet: the setup step says so",
            trigger: `${setupStep("locations", "todo")} button`,
            run: "click",
        },
        {
            content: "the shop's location is fetched, not mapped yet",
            trigger: `${setupStep("locations", "todo")} .o_retail_setup_result:contains(none mapped)`,
        },
        {
            trigger: ".o_form_view .o_notebook .nav-link[name='shopify']",
            run: "click",
        },
        {
            content: "the Shopify location, listed on the Shopify tab",
            trigger: `${LOCATIONS} .o_data_row:contains(Main warehouse) .o_data_cell[name='warehouse_id']`,
            run: "click",
        },
        {
            trigger: `${LOCATIONS} .o_selected_row .o_field_widget[name='warehouse_id'] input`,
            run: "edit Berlin DC",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(Berlin DC)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "saved: the location publishes the warehouse's stock, the step is done",
            trigger: `${setupStep("locations", "done")} .o_retail_setup_result:contains(1 of 1)`,
        },
        {
            content: "the mapping is kept on the form",
            trigger: `${LOCATIONS} .o_data_row:contains(Main warehouse) .o_data_cell[name='warehouse_id']:contains(Berlin DC)`,
        },
    ],
});

registry.category("web_tour.tours").add("retail_connect_shopify_ignore_exception", {
    url: "/odoo",
    steps: () => [
        ...openRetailConnectMenu("retail_connect_base.menu_sync_exception"),
        {
            content: "the open exception of the unknown SKU",
            trigger: ".o_list_view .o_data_row:contains(TEST-404) .o_data_cell",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_ignore']",
            run: "click",
        },
        {
            content: "the wizard asks why",
            trigger: ".modal .o_field_widget[name='reason'] textarea",
            run: "edit Test order placed by the shop owner, cancelled on Shopify",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "the exception is ignored, the form shows it without a reload",
            trigger:
                "body:not(:has(.modal)) .o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='ignored']",
        },
        {
            trigger: ".o_form_view .ribbon:contains(Ignored)",
        },
        {
            content: "the chatter keeps who ignored it, and why",
            trigger: ".o-mail-Message .o-mail-Message-trackingNew:contains(Test order placed by the shop owner)",
        },
        {
            trigger: ".o-mail-Message .o-mail-Message-trackingNew:contains(Ignored)",
        },
        {
            trigger: ".o_form_view .o_notebook .nav-link[name='resolution']",
            run: "click",
        },
        {
            content: "the reason is the resolution note",
            trigger:
                ".o_form_view .o_field_widget[name='resolution_note']:contains(cancelled on Shopify)",
        },
    ],
});

registry.category("web_tour.tours").add("retail_connect_shopify_replay_event", {
    url: "/odoo",
    steps: () => [
        ...openRetailConnectMenu("retail_connect_base.menu_event"),
        {
            content: "the order that arrived while its policy was off",
            trigger:
                ".o_list_view .o_data_row:contains(orders/create):contains(Skipped: policy) .o_data_cell",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_replay']",
            run: "click",
        },
        {
            content: "Replay asks first",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "the replay opens: a new event, queued, pointing to the original",
            trigger:
                "body:not(:has(.modal)) .o_form_view:has(.o_field_widget[name='replay_of_id'] a) .o_statusbar_status button.o_arrow_button_current[data-value='queued']",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='source']:contains(Replay)",
        },
    ],
});
