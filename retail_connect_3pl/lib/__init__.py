# Pure-Python pieces of the 3PL connector (no ORM): the transport interface and
# its REST implementation, the webhook verifier, the message mappers.
