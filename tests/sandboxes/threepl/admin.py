"""Admin routes of the 3PL sandbox (JSON in, JSON out; no token, not
recorded, no faults): what the warehouse floor does, to drive scenarios.
Each has the same-named Python method on the sandbox (``sb.ship(...)``).

- ``POST /__sandbox__/stock {sku, qty, fc, name, barcode}``: set on hand;
- ``POST /__sandbox__/drift {sku, delta, fc}``: an unreported stock change;
- ``POST /__sandbox__/adjust {sku, delta, reason, fc, lot, reference}``: a
  reported adjustment (SFTP: an ``inventory_adjustment`` file);
- ``POST /__sandbox__/ship {order, quantities, reason, carrier, service,
  packages}`` (``order``: id or reference; ``quantities`` {sku: qty}: a
  partial shipment, the rest short with ``reason``);
- ``POST /__sandbox__/refuse {order, reason}``: ship nothing, cancel;
- ``POST /__sandbox__/track {shipment, status}``: a carrier status;
- ``POST /__sandbox__/receive {asn, items, complete}`` (``asn``: receiving
  order id or ASN reference; ``items`` [{sku, received, damaged, lot}]);
- ``POST /__sandbox__/returns {order, reference_id, lines}``: a return
  arrives unannounced; ``POST /__sandbox__/returns/<id>/complete {items}``;
- ``POST /__sandbox__/snapshot {fc, as_of}``: an inventory count (SFTP: an
  ``inventory_snapshot`` file);
- ``POST /__sandbox__/outage {start, end}`` or ``{seconds}`` (from now): 503
  for every API request in that window of the clock;
- ``GET /__sandbox__/orders``: every order with its status;
- ``GET /__sandbox__/webhooks``, ``POST /__sandbox__/webhooks/flush {order,
  duplicate_every, seed, signature_age, only}``;
- ``GET|POST /__sandbox__/config {rate_limit, webhook_mode}``;
- SFTP: see ``sftp.py`` (``/__sandbox__/sftp...``).
"""

from __future__ import annotations

from dataclasses import asdict

from werkzeug.routing import Rule

from . import receiving, render
from .warehouse import WarehouseError

ADMIN_RULES = (
    Rule("/__sandbox__/stock", endpoint="stock", methods=["POST"]),
    Rule("/__sandbox__/drift", endpoint="drift", methods=["POST"]),
    Rule("/__sandbox__/adjust", endpoint="adjust", methods=["POST"]),
    Rule("/__sandbox__/ship", endpoint="ship", methods=["POST"]),
    Rule("/__sandbox__/refuse", endpoint="refuse", methods=["POST"]),
    Rule("/__sandbox__/track", endpoint="track", methods=["POST"]),
    Rule("/__sandbox__/receive", endpoint="receive", methods=["POST"]),
    Rule("/__sandbox__/returns", endpoint="returns", methods=["POST"]),
    Rule(
        "/__sandbox__/returns/<int:ident>/complete",
        endpoint="return_complete",
        methods=["POST"],
    ),
    Rule("/__sandbox__/snapshot", endpoint="snapshot", methods=["POST"]),
    Rule("/__sandbox__/outage", endpoint="outage", methods=["POST", "DELETE"]),
    Rule("/__sandbox__/orders", endpoint="orders", methods=["GET"]),
    Rule("/__sandbox__/webhooks", endpoint="webhooks", methods=["GET"]),
    Rule("/__sandbox__/webhooks/flush", endpoint="flush", methods=["POST"]),
    Rule("/__sandbox__/config", endpoint="config", methods=["GET", "POST"]),
    Rule("/__sandbox__/sftp", endpoint="sftp", methods=["GET"]),
    Rule("/__sandbox__/sftp/poll", endpoint="sftp_poll", methods=["POST"]),
    Rule(
        "/__sandbox__/sftp/faults", endpoint="sftp_faults", methods=["POST", "DELETE"]
    ),
    Rule("/__sandbox__/sftp/release", endpoint="sftp_release", methods=["POST"]),
    Rule("/__sandbox__/sftp/redeliver", endpoint="sftp_redeliver", methods=["POST"]),
    Rule("/__sandbox__/sftp/keys", endpoint="sftp_keys", methods=["POST"]),
)
CONFIG_FIELDS = ("rate_limit", "webhook_mode")


# ----------------------------------------------------------- lookups
def order_of(sb, ident) -> dict:
    wh = sb.warehouse
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdigit()):
        if int(ident) in wh.orders:
            return wh.orders[int(ident)]
    matches = [o for o in wh.orders.values() if o["reference_id"] == ident]
    if len(matches) != 1:
        raise WarehouseError(404, "unknown_order", f"no single order {ident!r}")
    return matches[0]


def wro_of(sb, ident) -> dict:
    wh = sb.warehouse
    if str(ident).isdigit() and int(ident) in wh.wros:
        return wh.wros[int(ident)]
    if ident in wh.asn_refs:
        return wh.wros[wh.asn_refs[ident]]
    matches = [w for w in wh.wros.values() if w["asn_ref"] == ident]
    if len(matches) != 1:
        raise WarehouseError(404, "unknown_asn", f"no single receiving order {ident!r}")
    return matches[0]


def return_of(sb, ident) -> dict:
    ret = sb.warehouse.returns.get(int(ident))
    if ret is None:
        raise WarehouseError(404, "unknown_return", f"no return {ident!r}")
    return ret


# ------------------------------------------------- python API (locked)
def _locked(function):
    def wrapper(sb, *args, **kwargs):
        with sb.lock:
            result = function(sb, *args, **kwargs)
        if sb.webhook_mode == "sync":
            sb.flush_webhooks()
        return result

    wrapper.__doc__ = function.__doc__
    wrapper.__name__ = function.__name__
    return wrapper


@_locked
def ship(sb, order, quantities=None, **kwargs):
    return sb.warehouse.ship(order_of(sb, order), quantities, **kwargs)


@_locked
def refuse(sb, order, reason="out_of_stock"):
    return sb.warehouse.refuse(order_of(sb, order), reason)


@_locked
def track(sb, shipment, status):
    return sb.warehouse.track(shipment, status)


@_locked
def receive(sb, asn, items=None, complete=True):
    return receiving.receive(sb.warehouse, wro_of(sb, asn), items, complete)


@_locked
def arrive_return(sb, order, lines, reference_id="", tracking_number=""):
    """A customer return arrives that nobody announced (for ``order``)."""
    found = order_of(sb, order)
    shipped = [
        sid
        for sid in found["shipments"]
        if sb.warehouse.shipments[sid]["status"] == "Completed"
    ]
    return receiving.create_return(
        sb.warehouse,
        {
            "reference_id": reference_id or f"RMA-{found['reference_id']}",
            "fc": found["fc"],
            "order": found,
            "original_shipment_id": shipped[0] if shipped else None,
            "tracking_number": tracking_number,
            "lines": lines,
        },
        found["transport"],
    )


@_locked
def complete_return(sb, ident, items=None):
    return receiving.complete_return(sb.warehouse, return_of(sb, ident), items)


@_locked
def stock(sb, sku, qty, fc=None, name=None, barcode=None):
    return sb.warehouse.seed_stock(sku, qty, fc, name=name, barcode=barcode)


@_locked
def drift(sb, sku, delta, fc=None):
    sb.warehouse.drift(sku, delta, fc)


@_locked
def adjust(sb, sku, delta, reason="cycle_count", fc=None, lot=None, reference=""):
    return sb.warehouse.adjust(sku, delta, reason, fc, lot, reference)


@_locked
def snapshot(sb, fc=None, as_of=None):
    """Take a count; with SFTP, drop it as an ``inventory_snapshot`` file."""
    snap = sb.warehouse.snapshot(fc, as_of)
    if sb.sftp is not None:
        sb.sftp.drop_snapshot(snap)
    return snap


# -------------------------------------------------------- admin routes
def _wrap(function):
    def route(sb, request, data, **args):
        return function(sb, data, **args)

    return route


admin_ship = _wrap(
    lambda sb, d: _fact(
        ship(
            sb,
            d["order"],
            d.get("quantities"),
            **{k: d[k] for k in ("reason", "carrier", "service", "packages") if k in d},
        )
    )
)
admin_refuse = _wrap(
    lambda sb, d: _fact(refuse(sb, d["order"], d.get("reason", "out_of_stock")))
)
admin_track = _wrap(lambda sb, d: _fact(track(sb, d["shipment"], d["status"])))
admin_receive = _wrap(
    lambda sb, d: receiving.render_wro(
        sb, receive(sb, d["asn"], d.get("items"), d.get("complete", True))["wro"]
    )
)
admin_returns = _wrap(
    lambda sb, d: render.return_(
        sb, arrive_return(sb, d["order"], d["lines"], d.get("reference_id", ""))
    )
)
admin_return_complete = _wrap(
    lambda sb, d, ident: render.return_(
        sb, complete_return(sb, ident, d.get("items"))["return"]
    )
)
admin_stock = _wrap(
    lambda sb, d: stock(
        sb, d["sku"], d["qty"], d.get("fc"), d.get("name"), d.get("barcode")
    )
)
admin_drift = _wrap(
    lambda sb, d: drift(sb, d["sku"], d["delta"], d.get("fc")) or {"ok": True}
)
admin_adjust = _wrap(
    lambda sb, d: adjust(
        sb,
        d["sku"],
        d["delta"],
        d.get("reason", "cycle_count"),
        d.get("fc"),
        d.get("lot"),
        d.get("reference", ""),
    )
)
admin_snapshot = _wrap(lambda sb, d: snapshot(sb, d.get("fc"), d.get("as_of")))


def _fact(fact: dict) -> dict:
    return {
        "order": fact["order"]["id"],
        "status": fact["order"]["status"],
        "shipment": fact["shipment"]["id"] if fact.get("shipment") else None,
        "short_shipment": fact["short_shipment"]["id"]
        if fact.get("short_shipment")
        else None,
    }


def admin_outage(sb, request, data):
    with sb.lock:
        if request.method == "DELETE":
            sb.outages.clear()
        elif "seconds" in data:
            now = sb.clock.now()
            sb.add_outage(now, now + float(data["seconds"]))
        else:
            sb.add_outage(float(data["start"]), float(data["end"]))
        return {"outages": sb.outages}


def admin_orders(sb, request, data):
    with sb.lock:
        return [
            {
                "id": o["id"],
                "reference_id": o["reference_id"],
                "status": o["status"],
                "transport": o["transport"],
            }
            for o in sb.warehouse.orders.values()
        ]


def admin_webhooks(sb, request, data):
    with sb.lock:
        return {
            "queue": list(sb.hub.queue),
            "attempts": [asdict(a) for a in sb.hub.attempts],
            "failed": list(sb.hub.failed),
        }


def admin_flush(sb, request, data):
    attempts = sb.flush_webhooks(
        order=data.get("order", "fifo"),
        duplicate_every=data.get("duplicate_every"),
        seed=data.get("seed"),
        signature_age=float(data.get("signature_age", 0)),
        only=data.get("only"),
    )
    return [asdict(a) for a in attempts]


def admin_config(sb, request, data):
    with sb.lock:
        for name, value in data.items():
            if name not in CONFIG_FIELDS:
                raise ValueError(f"unknown config field {name!r}")
            setattr(sb, name, value)
        return {name: getattr(sb, name) for name in CONFIG_FIELDS}


def _sftp(sb):
    if sb.sftp is None:
        raise WarehouseError(404, "no_sftp", "this sandbox runs without SFTP")
    return sb.sftp


def admin_sftp(sb, request, data):
    return _sftp(sb).info()


def admin_sftp_poll(sb, request, data):
    return _sftp(sb).poll()


def admin_sftp_faults(sb, request, data):
    side = _sftp(sb)
    if request.method == "DELETE":
        side.file_faults.clear()
        return []
    side.add_file_fault(data["kind"], times=int(data.get("times", 1)))
    return list(side.file_faults)


def admin_sftp_release(sb, request, data):
    return _sftp(sb).release(order=data.get("order", "fifo"))


def admin_sftp_redeliver(sb, request, data):
    return {"name": _sftp(sb).redeliver(data["name"])}


def admin_sftp_keys(sb, request, data):
    _sftp(sb).authorize(data["public_key"])
    return {"authorized": len(_sftp(sb).authorized)}
