"""Create the benchmark's TestShop backend in a database; print its id.

Run by bench/run.py with Odoo's environment, before the server starts:
``python3 bench/odoo_setup.py <config> <database> <webhook secret>``;
``python3 bench/odoo_setup.py <config> <database> dispatch`` runs the
dispatcher once (as its job or backstop cron would after a restart) and prints
how many events got a job.
"""

import sys

import odoo
from odoo import SUPERUSER_ID, api


def main(config, db, secret):
    odoo.tools.config.parse_config(["-c", config, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        if secret == "dispatch":
            print(env["retail.event"]._cron_dispatch())
            return
        backend = env["retail.backend"].create(
            {
                "name": "Bench TestShop",
                "platform": "testshop",
                "environment": "sandbox",
                # never called (no job runs), and nothing leaves the machine if
                # one did: port 9 is "discard"
                "base_url": "http://127.0.0.1:9",
            }
        )
        backend.webhook_secret = secret
        backend.action_activate()
        print(backend.id)


if __name__ == "__main__":
    main(*sys.argv[1:4])
