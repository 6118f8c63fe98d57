from . import retail_backend
from . import stripe_payment
from . import stripe_refund
from . import stripe_refund_out
from . import stripe_payout
from . import stripe_dispute
from . import account_move
