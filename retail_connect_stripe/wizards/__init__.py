from . import stripe_assign_payment
