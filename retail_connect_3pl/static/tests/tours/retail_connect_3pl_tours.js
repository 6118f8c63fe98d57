/**
 * Tours of a 3PL warehouse in the UI (test_tours.py starts them and asserts
 * what they leave behind): a 3PL set up from an empty backend form, its
 * warehouse chosen, activated and subscribed to the 3PL's webhooks. Every
 * step waits for its element: no sleeps.
 */
import { registry } from "@web/core/registry";
import {
    field,
    fieldFromParameter,
    newBackend,
    runSetupStep,
    setupStep,
} from "@retail_connect_base/../tests/tour_utils";

registry.category("web_tour.tours").add("retail_connect_3pl_setup", {
    url: "/odoo",
    steps: () => [
        ...newBackend(),
        {
            trigger: field("name"),
            run: "edit Chicago 3PL",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='platform'] select",
            run: 'select "threepl"',
        },
        {
            content: "the 3PL's own tab appears, the credentials it does not use hide",
            trigger:
                ".o_form_view:not(:has(.o_field_widget[name='api_key'])):not(:has(.o_field_widget[name='client_secret'])) .o_notebook .nav-link[name='threepl']",
        },
        {
            content: "the 3PL checklist: credentials and warehouses to do",
            trigger: `${setupStep("warehouses", "todo")}`,
        },
        fieldFromParameter("base_url", "retail_connect_3pl.tour_base_url"),
        fieldFromParameter("access_token", "retail_connect_3pl.tour_token"),
        {
            trigger: ".o_form_view .o_notebook .nav-link[name='threepl']",
            run: "click",
        },
        fieldFromParameter("threepl_channel_id", "retail_connect_3pl.tour_channel"),
        {
            content: "the warehouse the 3PL runs",
            trigger: field("threepl_warehouse_ids"),
            run: "edit 3PL Illinois",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(3PL Illinois)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='threepl_warehouse_ids'] .o_tag:contains(3PL Illinois)",
        },
        {
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "saved: the credentials and the warehouse are set",
            trigger: `${setupStep("credentials", "done")} ~ ${setupStep("warehouses", "done")}`,
        },
        ...runSetupStep("connection"),
        ...runSetupStep("activation"),
        ...runSetupStep("webhooks"),
        {
            trigger: `${setupStep("policies")} button`,
            run: "click",
        },
        {
            content: "every step done: the checklist folds",
            trigger: ".o_retail_setup_toggle:contains(Setup complete):contains(6 / 6 done)",
            run: "click",
        },
        {
            content: "unfolded, it shows each step done",
            trigger: `${setupStep("policies", "done")}`,
        },
        {
            content: "the backend is active",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='active']",
        },
        {
            trigger: ".o_form_view .o_notebook .nav-link[name='threepl']",
            run: "click",
        },
        {
            content: "its subscription is shown on the 3PL tab",
            trigger:
                ".o_form_view .o_field_widget[name='threepl_webhook_subscription'] span:not(:empty)",
        },
    ],
});
