/**
 * Tours of a 3PL warehouse in the UI (test_tours.py starts them and asserts
 * what they leave behind): a 3PL set up from an empty backend form, its
 * warehouse chosen, activated and subscribed to the 3PL's webhooks. Every
 * step waits for its element: no sleeps.
 */
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** A value the test put in a system parameter (the sandbox's address). */
async function testParameter(key) {
    return rpc("/web/dataset/call_kw/ir.config_parameter/get_param", {
        model: "ir.config_parameter",
        method: "get_param",
        args: [key],
        kwargs: {},
    });
}

function field(name) {
    return `.o_form_view .o_field_widget[name='${name}'] input`;
}

function setupStep(key, state) {
    const step = `.o_retail_setup_step[data-step='${key}']`;
    return state ? `${step}[data-state='${state}']` : step;
}

function runSetupStep(key) {
    return [
        {
            content: `press the button of the setup step ${key}`,
            trigger: `${setupStep(key)} button`,
            run: "click",
        },
        {
            content: `the setup step ${key} is done, the page not reloaded`,
            trigger: setupStep(key, "done"),
        },
    ];
}

function fromParameter(name, key) {
    return {
        trigger: field(name),
        async run(helpers) {
            await helpers.edit(await testParameter(key));
        },
    };
}

registry.category("web_tour.tours").add("retail_connect_3pl_setup", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("retail_connect_base.menu_root", "Open Retail Connect"),
        {
            trigger: "button[data-menu-xmlid='retail_connect_base.menu_configuration']",
            run: "click",
        },
        {
            trigger: "[data-menu-xmlid='retail_connect_base.menu_backend']",
            run: "click",
        },
        {
            content: "a new backend",
            trigger: ".o_list_view .o_list_button_add",
            run: "click",
        },
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
        fromParameter("base_url", "retail_connect_3pl.tour_base_url"),
        fromParameter("access_token", "retail_connect_3pl.tour_token"),
        {
            trigger: ".o_form_view .o_notebook .nav-link[name='threepl']",
            run: "click",
        },
        fromParameter("threepl_channel_id", "retail_connect_3pl.tour_channel"),
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
