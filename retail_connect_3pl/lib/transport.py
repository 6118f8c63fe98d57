"""One interface for every way messages travel to and from a 3PL.

A message is the canonical, EDI-shaped dict of PLATFORMS.md §4 (the payload of
a ``threepl.message``): ``type``, ``message_id``, ``purpose`` and the type's
fields. A transport turns it into the 3PL's wire format and back; it never
touches the ORM, so the flows are the same over REST and SFTP.
"""


class Refused(Exception):
    """The 3PL refused a message for a business reason (its ack's error).

    ``code`` is one of the CSV contract's ack codes (docs/3pl-sftp-csv.md
    §3.3): ``duplicate_order_ref``, ``unknown_order``, ``already_shipped``...
    """

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Transport:
    """What a flow asks of a transport.

    ``send(message)`` delivers one outbound message and returns a dict:
    ``remote_ref`` (the 3PL's id of what it created, if any) and ``acked``
    (True when the 3PL accepted it in the same exchange, as an API answer
    does; False when its ack comes later, as a file in the inbox does).
    Sending the same ``message_id`` again must not create a second order:
    a retry after a lost answer adopts what the first try created.
    Raises ``Refused`` for a business refusal, the base's errors otherwise.
    """

    name = None

    def send(self, message):  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self):
        """Release the connection, if the transport holds one."""
