import { Component, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const ICONS = {
    done: "fa-check-circle text-success",
    todo: "fa-circle-o text-primary",
    blocked: "fa-lock text-muted",
    running: "fa-spinner fa-spin text-info",
    failed: "fa-exclamation-circle text-danger",
};

/**
 * The backend's setup checklist (``setup_steps``, computed on the server):
 * each step with its state, its last result and the button that does it.
 * Open while a step is left; collapsed, and reopenable, once all are done.
 */
export class SetupChecklist extends Component {
    static template = "retail_connect_base.SetupChecklist";
    static props = { ...standardFieldProps };

    setup() {
        this.state = useState({ open: null });
    }

    get steps() {
        return this.props.record.data[this.props.name] || [];
    }

    get doneCount() {
        return this.steps.filter((step) => step.state === "done").length;
    }

    get complete() {
        return this.steps.length > 0 && this.doneCount === this.steps.length;
    }

    get open() {
        return this.state.open === null ? !this.complete : this.state.open;
    }

    icon(step) {
        return ICONS[step.state] || ICONS.todo;
    }

    toggle() {
        this.state.open = !this.open;
    }

    async run(step) {
        // the form's own button machinery: saves the record first, checks
        // nothing on the client (the server checks the group), reloads after
        const record = this.props.record;
        await this.env.onClickViewButton({
            clickParams: { type: "object", name: step.button },
            getResParams: () => ({
                context: record.context,
                evalContext: record.evalContext,
                resModel: record.resModel,
                resId: record.resId,
                resIds: record.resIds,
            }),
        });
    }
}

registry.category("fields").add("retail_setup_checklist", {
    component: SetupChecklist,
    supportedTypes: ["json"],
});
