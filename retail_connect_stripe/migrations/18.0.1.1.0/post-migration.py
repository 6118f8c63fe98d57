"""18.0.1.1.0: a payout's statement knows its Stripe account.

``account.bank.statement.stripe_backend_id`` (the Payouts menu lists the
statements that have one) is set when a payout is reconciled; the statements
reconciled before it get theirs from the binding that already links them to
their payout.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE account_bank_statement statement
           SET stripe_backend_id = binding.backend_id
          FROM retail_binding binding
          JOIN retail_backend backend ON backend.id = binding.backend_id
         WHERE binding.res_model = 'account.bank.statement'
           AND binding.res_id = statement.id
           AND backend.platform = 'stripe'
           AND statement.stripe_backend_id IS NULL
        """
    )
