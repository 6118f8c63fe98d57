"""Every event is stored with a domain its form can show (issue 15)."""

from odoo.tests import tagged

from .common import TestShopCase

EVENT_FORM_OPENS = """
(async () => {
    const start = Date.now();
    while (!document.querySelector(".o_form_view .o_field_widget[name='topic']")) {
        if (Date.now() - start > 30000) {
            console.error("the event form did not open");
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (document.querySelector(".o_error_dialog")) {
        console.error("the event form crashed");
        return;
    }
    console.log("test successful");
})();
"""


@tagged("post_install", "-at_install")
class TestEventDomain(TestShopCase):
    def test_an_unhandled_topic_is_stored_with_a_domain(self):
        customer = self.sandbox.add_customer("topic@example.com", "Topic")
        event = self.event_for(customer, topic="order/created")
        self.assertEqual(self.post_event(event).status_code, 200)
        stored = self.Event.search([("dedup_key", "=", event["id"])])
        self.assertEqual(len(stored), 1)
        self.assertIn(stored.domain, dict(stored._fields["domain"].selection))

    def test_the_event_form_opens_whatever_its_stored_domain(self):
        customer = self.sandbox.add_customer("form@example.com", "Form")
        event = self.event_for(customer)
        self.post_event(event)
        stored = self.Event.search([("dedup_key", "=", event["id"])])
        # a value no selection knows, as older versions stored ("false")
        self.env.cr.execute(
            "UPDATE retail_event SET domain = 'false' WHERE id = %s", [stored.id]
        )
        self.browser_js(
            f"/odoo/action-retail_connect_base.action_event/{stored.id}",
            EVENT_FORM_OPENS,
            login="admin",
        )
