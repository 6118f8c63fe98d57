"""18.0.1.1.0: the Sales team of imported orders moved to the base.

``shopify_team_id`` (a column of retail_backend until 18.0.1.0.0) is now an
alias of the base's ``sale_team_id``: carry each backend's team over, so
imported orders keep going to the team the administrator chose.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'retail_backend' AND column_name = 'shopify_team_id'
        """
    )
    if not cr.fetchone():
        return
    cr.execute(
        """
        UPDATE retail_backend
           SET sale_team_id = shopify_team_id
         WHERE shopify_team_id IS NOT NULL AND sale_team_id IS NULL
        """
    )
