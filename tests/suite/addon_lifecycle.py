"""Run inside `odoo shell` (stdin) by test_one_addon.py; not a test module.

Phase from the environment: RC_PHASE=install snapshots what the platform addon
RC_ADDON brought (and creates a backend of its platform, so that per-backend
records exist), RC_PHASE=uninstall uninstalls it, RC_PHASE=check lists what of
the snapshot is still there. Prints one line: RC_RESULT <json>.
"""

# ruff: noqa: F821 - `env` is given by odoo shell
import json
import os

addon = os.environ["RC_ADDON"]
phase = os.environ["RC_PHASE"]
snapshot_file = os.environ["RC_SNAPSHOT"]


def xmlids(model):
    data = env["ir.model.data"].search([("module", "=", addon), ("model", "=", model)])
    return sorted(data.mapped("res_id"))


if phase == "install":
    modules = env["ir.module.module"].search([("state", "=", "installed")])
    # the models the addon creates (not those it only extends): no other
    # module has an xmlid for them
    own = []
    for model in env["ir.model"].browse(xmlids("ir.model")):
        others = env["ir.model.data"].search_count(
            [
                ("model", "=", "ir.model"),
                ("res_id", "=", model.id),
                ("module", "!=", addon),
            ]
        )
        if not others:
            own.append(model.model)
    model_names = own
    platforms = [
        value for value, _label in env["retail.backend"]._fields["platform"].selection
    ]
    backends = []
    for platform in platforms:
        backend = env["retail.backend"].create(
            {
                "name": f"{addon} lifecycle",
                "platform": platform,
                "environment": "sandbox",
                "base_url": "http://127.0.0.1:9",
            }
        )
        backends.append([backend.id, platform])
    channels = env["queue.job.channel"].search(
        [("name", "in", [f"{p}_{i}" for i, p in backends])]
    )
    result = {
        "installed": sorted(m.name for m in modules if m.name.startswith("retail_")),
        "data": env["ir.model.data"].search_count([("module", "=", addon)]),
        "models": model_names,
        "tables": [env[m]._table for m in model_names if not env[m]._abstract]
        if model_names
        else [],
        "menus": xmlids("ir.ui.menu"),
        "crons": xmlids("ir.cron"),
        "job_functions": xmlids("queue.job.function"),
        "channels": channels.ids,
        "backends": backends,
    }
    env.cr.commit()
elif phase == "uninstall":
    module = env["ir.module.module"].search([("name", "=", addon)])
    module.button_immediate_uninstall()
    result = {"state": module.state}
else:
    before = json.loads(open(snapshot_file).read())  # noqa: SIM115
    cr = env.cr

    def left(table, ids):
        if not ids:
            return []
        cr.execute(f"SELECT id FROM {table} WHERE id IN %s", [tuple(ids)])  # noqa: S608
        return [row[0] for row in cr.fetchall()]

    cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [addon])
    state = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM ir_model_data WHERE module = %s", [addon])
    data = cr.fetchone()[0]
    names = tuple(before["models"] or [""])
    cr.execute("SELECT model FROM ir_model WHERE model IN %s", [names])
    models = [row[0] for row in cr.fetchall()]
    tables = []
    for table in before["tables"]:
        cr.execute("SELECT to_regclass(%s)", [table])
        if cr.fetchone()[0]:
            tables.append(table)
    result = {
        "state": state,
        "data": data,
        "models": models,
        "tables": tables,
        "menus": left("ir_ui_menu", before["menus"]),
        "crons": left("ir_cron", before["crons"]),
        "job_functions": left("queue_job_function", before["job_functions"]),
        "channels": left("queue_job_channel", before["channels"]),
        "backends": left("retail_backend", [i for i, _p in before["backends"]]),
    }
print("RC_RESULT " + json.dumps(result), flush=True)
