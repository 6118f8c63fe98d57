/**
 * Steps the platforms' tours share (their static/tests/tours): opening a
 * Retail Connect menu, the backends' list or a new backend, filling a field
 * with a value the test put in a system parameter, pressing a step of the
 * setup checklist and waiting for it to be done. Every step waits for its
 * element: no sleeps.
 */
import { rpc } from "@web/core/network/rpc";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** A value the test put in a system parameter (a sandbox's address, a token). */
export async function testParameter(key) {
    return rpc("/web/dataset/call_kw/ir.config_parameter/get_param", {
        model: "ir.config_parameter",
        method: "get_param",
        args: [key],
        kwargs: {},
    });
}

/** The input of a field of the form view. */
export function field(name) {
    return `.o_form_view .o_field_widget[name='${name}'] input`;
}

/** A step of the backend's setup checklist, in a state when given. */
export function setupStep(key, state) {
    const step = `.o_retail_setup_step[data-step='${key}']`;
    return state ? `${step}[data-state='${state}']` : step;
}

/** Press a setup step's button; it is done without reloading the page. */
export function runSetupStep(key) {
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

/** Fill a form field with the system parameter ``key`` (``content``: what it is). */
export function fieldFromParameter(name, key, content) {
    const step = {
        trigger: field(name),
        async run(helpers) {
            await helpers.edit(await testParameter(key));
        },
    };
    return content ? { content, ...step } : step;
}

/** Open Retail Connect, then one of its top menus (``xmlid``). */
export function openRetailConnectMenu(xmlid) {
    return [
        ...stepUtils.goToAppSteps("retail_connect_base.menu_root", "Open Retail Connect"),
        {
            trigger: `[data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

/** Open the backends' list (Configuration > Backends). */
export function openBackends() {
    return [
        ...stepUtils.goToAppSteps("retail_connect_base.menu_root", "Open Retail Connect"),
        {
            trigger: "button[data-menu-xmlid='retail_connect_base.menu_configuration']",
            run: "click",
        },
        {
            trigger: "[data-menu-xmlid='retail_connect_base.menu_backend']",
            run: "click",
        },
    ];
}

/** An empty backend form, from the backends' list. */
export function newBackend() {
    return [
        ...openBackends(),
        {
            content: "a new backend",
            trigger: ".o_list_view .o_list_button_add",
            run: "click",
        },
    ];
}
