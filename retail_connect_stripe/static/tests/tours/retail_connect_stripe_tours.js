/**
 * Tours of a Stripe account's day in the UI (test_tours.py starts them and
 * seeds the data through the Stripe sandbox and the real flow): reading a
 * reconciled payout. Every step waits for its element: no sleeps.
 */
import { registry } from "@web/core/registry";
import { openRetailConnectMenu, testParameter } from "@retail_connect_base/../tests/tour_utils";

const LINES = ".o_form_view .o_field_widget[name='line_ids']";

registry.category("web_tour.tours").add("retail_connect_stripe_payout", {
    url: "/odoo",
    steps: () => [
        ...openRetailConnectMenu("retail_connect_stripe.menu_stripe_payout"),
        {
            content: "the payout, listed as reconciled",
            trigger:
                ".o_list_view .o_data_row:contains(Acme Stripe):has(.o_data_cell[name='stripe_reconciled'] input:checked) .o_data_cell[name='name']",
            run: "click",
        },
        {
            content: "its form says it is reconciled",
            trigger: ".o_form_view .ribbon:contains(Reconciled)",
        },
        {
            content: "what left for the bank: the payout's amount",
            trigger: ".o_form_view .o_field_widget[name='stripe_payout_amount']",
            async run() {
                const amount = await testParameter("retail_connect_stripe.tour_payout_amount");
                const shown = this.anchor.textContent;
                if (!shown.includes(amount)) {
                    throw new Error(`the payout shows ${shown}, Stripe paid out ${amount}`);
                }
            },
        },
        {
            content: "the customer's charge, matched with her payment",
            trigger: `${LINES} .o_data_row:contains(Jane Doe):contains(Stripe charge) .o_data_cell[name='is_reconciled'] input:checked`,
        },
        {
            content: "the money sent to the bank, matched",
            trigger: `${LINES} .o_data_row:contains(Stripe payout) .o_data_cell[name='is_reconciled'] input:checked`,
        },
        {
            content: "no line left to check",
            trigger: `.o_form_view:not(:has(${LINES} .o_data_row .o_data_cell[name='is_reconciled'] input:not(:checked)))`,
        },
    ],
});

registry.category("web_tour.tours").add("retail_connect_stripe_payout_to_check", {
    url: "/odoo",
    steps: () => [
        ...openRetailConnectMenu("retail_connect_stripe.menu_stripe_payout"),
        {
            content: "the payout, listed as not reconciled, 2 lines to check",
            trigger:
                ".o_list_view .o_data_row:contains(Acme Stripe):has(.o_data_cell[name='stripe_reconciled'] input:not(:checked)):has(.o_data_cell[name='stripe_unreconciled_count']:contains(2)) .o_data_cell[name='name']",
            run: "click",
        },
        {
            content: "its form says it is to check, and why",
            trigger: ".o_form_view .ribbon:contains(To check)",
        },
        {
            trigger: ".o_form_view .alert-warning:contains(suspense account)",
        },
        {
            content: "the customer's charge is matched",
            trigger: `${LINES} .o_data_row:contains(Stripe charge) .o_data_cell[name='is_reconciled'] input:checked`,
        },
        {
            content: "the failed refund's money back is not",
            trigger: `${LINES} .o_data_row:contains(Stripe refund_failure) .o_data_cell[name='is_reconciled'] input:not(:checked)`,
        },
        {
            content: "the payout's exception, open, on its form",
            trigger:
                ".o_form_view .o_field_widget[name='stripe_exception_ids'] .o_data_row:contains(left on the suspense account):has(.o_data_cell[name='state']:contains(New)) .o_data_cell[name='name']",
            run: "click",
        },
        {
            content: "it names the lines to reconcile by hand",
            trigger: ".modal .o_field_widget[name='message']:contains(refund_failure)",
        },
    ],
});
