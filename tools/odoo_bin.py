"""Odoo's command line, as ``odoo-bin`` (for ``python3 tools/odoo_bin.py ...``).

``python3 -m odoo`` breaks with ``--workers``: Odoo re-launches ``sys.argv[0]``
for its gevent (long-polling) child, which for ``-m`` is a file that cannot be
run alone. This file can.
"""

import odoo

if __name__ == "__main__":
    odoo.cli.main()
