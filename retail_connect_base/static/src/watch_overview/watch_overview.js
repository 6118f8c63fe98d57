import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const REFRESH_MS = 30000;

/**
 * The live overview of a busy day (a flash sale): the suite's figures, then
 * one card per backend with its figures, the events of the last hour as bars
 * and each policy's latency p95 against its objective. Every figure comes
 * from ``retail.backend.get_watch_overview`` (aggregated in SQL on the
 * server); the page refreshes itself every 30 seconds.
 */
export class WatchOverview extends Component {
    static template = "retail_connect_base.WatchOverview";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, loading: false });
        onWillStart(() => this.load());
        // started once shown: a page replaced before it showed keeps no timer
        onMounted(() => {
            this.timer = setInterval(() => this.load(), REFRESH_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    async load() {
        this.state.loading = true;
        try {
            this.state.data = await this.orm.call(
                "retail.backend",
                "get_watch_overview",
                [[]]
            );
        } finally {
            this.state.loading = false;
        }
    }

    age(seconds) {
        if (!seconds) {
            return "-";
        }
        if (seconds < 120) {
            return `${seconds} s`;
        }
        if (seconds < 7200) {
            return `${Math.round(seconds / 60)} min`;
        }
        return `${Math.round(seconds / 3600)} h`;
    }

    bars(sparkline) {
        const top = Math.max(1, ...sparkline);
        return sparkline.map((count, index) => ({
            index,
            count,
            height: Math.max(2, Math.round((count / top) * 40)),
        }));
    }

    busy(policies) {
        // a domain without traffic, backlog or breach is only noise here
        return policies.filter(
            (policy) => policy.p95_s || policy.backlog || policy.breached
        );
    }

    latencyWidth(policy) {
        const scale = Math.max(policy.objective_s || 1, policy.p95_s) * 1.2;
        return Math.min(100, Math.round((policy.p95_s / scale) * 100));
    }

    objectiveLeft(policy) {
        const scale = Math.max(policy.objective_s || 1, policy.p95_s) * 1.2;
        return Math.round(((policy.objective_s || 0) / scale) * 100);
    }

    openEvents(backendId, filter) {
        const context = { [`search_default_${filter}`]: 1 };
        return this.action.doAction("retail_connect_base.action_event", {
            additionalContext: context,
            props: {
                domain: backendId ? [["backend_id", "=", backendId]] : [],
            },
        });
    }

    openExceptions(backendId) {
        return this.action.doAction("retail_connect_base.action_sync_exception", {
            props: {
                domain: backendId ? [["backend_id", "=", backendId]] : [],
            },
        });
    }
}

registry.category("actions").add("retail_connect_watch_overview", WatchOverview);
