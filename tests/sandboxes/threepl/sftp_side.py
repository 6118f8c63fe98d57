"""The warehouse's side of the SFTP exchange (``docs/3pl-sftp-csv.md``).

It picks up ``outbox/*.csv`` (never a ``.tmp``), processes each message once
(a repeated ``message_id`` is acknowledged again and changes nothing),
removes the file once read and answers an ``ack`` in ``inbox/``; it leaves an
incomplete file in place. It drops the facts of SFTP orders and ASNs
(shipping advice, receipt advice, return advice), adjustments and snapshots
as files in ``inbox/``, written as ``<name>.csv.tmp`` then renamed.

File faults (``add_file_fault(kind, times)``), each striking the next
``times`` files it drops:

- ``truncate``: the ``.csv`` appears cut in the middle of its last line;
- ``stale_tmp``: only ``<name>.csv.tmp`` appears, never renamed;
- ``hold``: the file is kept back until :meth:`release` (late, and with
  ``release(order="reverse")`` out of order);
- ``duplicate``: the file is dropped now and again at :meth:`release`.

:meth:`redeliver` drops a file again, complete (the 3PL's own fix).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import weakref
from pathlib import Path

from . import csvfiles, receiving
from .csvfiles import Incomplete, Invalid, parse_decimal, stamp
from .sftp import SftpServer
from .warehouse import WarehouseError

FOLDERS = ("outbox", "inbox", "archive")
FILE_FAULTS = ("truncate", "stale_tmp", "hold", "duplicate")


class SftpSide:
    def __init__(self, sb, clock):
        self.sb = sb
        self.clock = clock
        self.root = Path(tempfile.mkdtemp(prefix="threepl-sftp-"))
        weakref.finalize(self, shutil.rmtree, self.root, True)
        self.auto_poll = True
        self.server = SftpServer(
            self.root, on_rename=self._renamed, closed=sb.in_outage
        )

    # ----------------------------------------------------------- lifecycle
    def reset(self) -> None:
        for folder in FOLDERS:
            shutil.rmtree(self.root / folder, ignore_errors=True)
            (self.root / folder).mkdir(parents=True)
        self.processed: dict[str, tuple[str, bytes]] = {}
        self.dropped: dict[str, bytes] = {}
        self.file_faults: list[dict] = []
        self.held: list[tuple[str, bytes]] = []
        self.results: list[dict] = []

    def start(self, port: int = 0):
        self.server.port = port
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()

    @property
    def authorized(self):
        return self.server.authorized

    def authorize(self, public_key: str) -> None:
        self.server.authorize(public_key)

    def info(self) -> dict:
        key = self.server.host_key
        return {
            "host": self.server.host,
            "port": self.server.port,
            "username": self.server.username,
            "host_key": f"{key.get_name()} {key.get_base64()}",
            "known_hosts": self.server.host_key_line,
            "fingerprint": self.server.host_key_fingerprint,
            "files": {
                folder: sorted(p.name for p in (self.root / folder).iterdir())
                for folder in FOLDERS
            },
        }

    # -------------------------------------------------------------- outbox
    def _renamed(self, path: Path) -> None:
        if (
            self.auto_poll
            and path.parent == self.root / "outbox"
            and path.suffix == ".csv"
        ):
            self.poll()

    def poll(self) -> list[dict]:
        """Process every whole file in ``outbox/``; return what happened."""
        done = []
        with self.sb.lock:
            for path in sorted((self.root / "outbox").glob("*.csv")):
                done.append({"file": path.name, "result": self._process(path)})
        self.results += done
        return done

    def _process(self, path: Path) -> str:
        split = csvfiles.split_name(path.name)
        raw = path.read_bytes()
        if split is None or split[0] not in csvfiles.OUTBOX_TYPES:
            self._ack(path.stem, "", "", Invalid(f"unexpected file name {path.name}"))
            path.unlink()
            return "rejected"
        kind, message_id = split
        if message_id in self.processed:
            name, data = self.processed[message_id]
            self._write(name, data)
            path.unlink()
            return "duplicate"
        try:
            rows = csvfiles.parse(kind, raw)
            if not rows:
                raise Invalid("the file has no rows", "missing_field")
            if any(row["message_id"] != message_id for row in rows):
                raise Invalid("message_id differs from the file name")
            ref = self._handle(kind, rows)
            error = None
        except Incomplete:
            return "incomplete"  # left in place: tried again at the next poll
        except (Invalid, WarehouseError) as exc:
            ref, error = self._ref(kind, raw), exc
        self.processed[message_id] = self._ack(message_id, kind, ref, error)
        path.unlink()
        return "rejected" if error else "accepted"

    @staticmethod
    def _ref(kind: str, raw: bytes) -> str:
        try:
            rows = csvfiles.parse(kind, raw)
        except (Incomplete, Invalid):
            return ""
        column = "order_ref" if kind == "shipping_order" else "asn_ref"
        return rows[0].get(column, "") if rows else ""

    def _ack(self, message_id, kind, ref, error) -> tuple[str, bytes]:
        row = {
            "acked_message_id": message_id,
            "acked_type": kind,
            "acked_ref": ref,
            "status": "rejected" if error else "accepted",
            "received_at": stamp(self.clock.now()),
        }
        if error is not None:
            row["error_code"] = error.code
            row["error_message"] = str(
                error.message if hasattr(error, "message") else error
            )
            row["line_no"] = getattr(error, "line_no", None) or ""
        return self.drop("ack", [row])

    def _handle(self, kind: str, rows: list[dict]) -> str:
        first = rows[0]
        purpose = first["purpose"]
        if purpose not in ("new", "change", "cancel") or (
            kind == "inbound_shipment_notice" and purpose == "change"
        ):
            raise Invalid(f"purpose {purpose!r} is not allowed", "invalid_value")
        wh = self.sb.warehouse
        if kind == "shipping_order":
            ref = first["order_ref"]
            if not ref:
                raise Invalid("order_ref is required", "missing_field")
            channel = self.sb.channels[0]["id"]
            if purpose == "new":
                wh.create_order(channel, self._order_data(rows), "sftp")
                return ref
            order = wh.find_order(channel, ref)
            if order is None:
                raise WarehouseError(404, "unknown_order", f"no order {ref}")
            if purpose == "change":
                wh.change_order(order, self._order_data(rows))
            else:
                wh.cancel_order(order)
            order["message_ids"].append(first["message_id"])
            return ref
        ref = first["asn_ref"]
        if not ref:
            raise Invalid("asn_ref is required", "missing_field")
        if purpose == "cancel":
            wro_id = wh.asn_refs.get(ref)
            if wro_id is None:
                raise WarehouseError(404, "unknown_asn", f"no ASN {ref}")
            receiving.cancel_wro(wh, wh.wros[wro_id])
            return ref
        lines = [
            {
                "line_no": row["line_no"],
                "sku": row["sku"],
                "qty": self._qty(row),
                "lot": row["lot"],
                "expiry": row["expiry"],
            }
            for row in rows
        ]
        receiving.create_wro(
            wh,
            {
                "asn_ref": ref,
                "fc": first["warehouse_code"] or None,
                "expected_date": first["expected_date"] or None,
                "tracking_number": first["tracking_number"],
                "lines": lines,
            },
            "sftp",
        )
        return ref

    @staticmethod
    def _qty(row: dict):
        try:
            return parse_decimal(row["qty"], "qty")
        except Invalid as exc:
            exc.line_no = row.get("line_no") or None
            raise

    def _order_data(self, rows: list[dict]) -> dict:
        first = rows[0]
        return {
            "reference_id": first["order_ref"],
            "order_number": first["customer_order_ref"],
            "shipping_method": first["service_level"] or "Standard",
            "carrier": first["carrier_code"],
            "recipient": {
                "name": first["ship_to_name"],
                "address": {
                    "address1": first["ship_to_street"],
                    "address2": first["ship_to_street2"],
                    "company_name": first["ship_to_company"],
                    "city": first["ship_to_city"],
                    "state": first["ship_to_state_code"],
                    "country": first["ship_to_country_code"],
                    "zip_code": first["ship_to_zip"],
                },
                "email": first["ship_to_email"],
                "phone_number": first["ship_to_phone"],
            },
            "lines": [
                {
                    "line_no": row["line_no"],
                    "sku": row["sku"],
                    "qty": self._qty(row),
                    "uom": row["uom"],
                    "lot": row["lot"],
                    "barcode": row["barcode"],
                }
                for row in rows
                if row["sku"]
            ],
            "fc": first["warehouse_code"] or None,
            "notes": first["notes"],
            "message_id": first["message_id"],
        }

    # --------------------------------------------------------------- inbox
    def add_file_fault(self, kind: str, times: int = 1) -> None:
        if kind not in FILE_FAULTS:
            raise ValueError(f"file fault must be one of {FILE_FAULTS}")
        self.file_faults.append({"kind": kind, "times": int(times)})

    def _take_fault(self) -> str | None:
        if not self.file_faults:
            return None
        fault = self.file_faults[0]
        fault["times"] -= 1
        if fault["times"] <= 0:
            self.file_faults.pop(0)
        return fault["kind"]

    def drop(self, kind: str, rows: list[dict]) -> tuple[str, bytes]:
        """Write one message to ``inbox/`` (subject to file faults)."""
        message_id = str(uuid.uuid4())
        name = f"{kind}_{message_id}.csv"
        data = csvfiles.render(kind, message_id, rows)
        self.dropped[name] = data
        fault = self._take_fault()
        inbox = self.root / "inbox"
        if fault == "truncate":
            body = data.rstrip(b"\r\n")
            cut = body.rfind(b"\n") + 1
            (inbox / name).write_bytes(data[: cut + max(1, (len(body) - cut) // 2)])
        elif fault == "stale_tmp":
            (inbox / (name + ".tmp")).write_bytes(data)
        elif fault == "hold":
            self.held.append((name, data))
        else:
            self._write(name, data)
            if fault == "duplicate":
                self.held.append((name, data))
        return name, data

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.root / "inbox" / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.rename(self.root / "inbox" / name)

    def release(self, order: str = "fifo") -> list[str]:
        """Drop the held files (``reverse``: newest first)."""
        held, self.held = self.held, []
        if order == "reverse":
            held.reverse()
        for name, data in held:
            self._write(name, data)
        return [name for name, _ in held]

    def redeliver(self, name: str) -> str:
        """Drop a file dropped before again, whole (after a truncated or
        never-renamed write, or as a duplicate)."""
        if name not in self.dropped:
            raise ValueError(f"no file {name} was dropped")
        stale = self.root / "inbox" / (name + ".tmp")
        stale.unlink(missing_ok=True)
        self._write(name, self.dropped[name])
        return name

    # --------------------------------------------------------------- facts
    def on_fact(self, kind: str, fact: dict) -> None:
        if fact.get("transport") != "sftp":
            return
        builder = getattr(self, f"_rows_{kind}", None)
        if builder is not None:
            message_kind, rows = builder(fact)
            self.drop(message_kind, rows)

    def _code(self, fc_id) -> str:
        return self.sb.warehouse.fcs[fc_id]["code"]

    def _rows_shipped(self, fact):
        order, shipment = fact["order"], fact["shipment"]
        short = fact["short_shipment"]
        status = {"Fulfilled": "complete", "PartiallyFulfilled": "partial"}.get(
            order["status"], "cancelled"
        )
        sent = shipment or short
        common = {
            "order_ref": order["reference_id"],
            "customer_order_ref": order["order_number"],
            "shipment_ref": sent["id"],
            "ship_date": stamp(sent["shipped_at"] or self.clock.now()),
            "status": status,
            "carrier": shipment["carrier"] if shipment else "",
            "service": shipment["service"] if shipment else "",
        }
        shipped = {}
        for line in shipment["lines"] if shipment else []:
            shipped[line["line_no"]] = shipped.get(line["line_no"], 0) + line["qty"]
        rows = []
        for line in order["lines"]:
            done = shipped.get(line["line_no"], 0)
            rows.append(
                {
                    **common,
                    "record": "line",
                    "line_no": line["line_no"],
                    "sku": line["sku"],
                    "qty_ordered": csvfiles.decimal(line["qty"]),
                    "qty_shipped": csvfiles.decimal(done),
                    "qty_short": csvfiles.decimal(line["qty"] - done),
                    "reason": fact["reason"] if done < line["qty"] else "",
                }
            )
        for package in shipment["packages"] if shipment else []:
            for line in package["lines"]:
                rows.append(
                    {
                        **common,
                        "record": "package",
                        "package_no": package["package_no"],
                        "tracking_number": package["tracking_number"],
                        "tracking_url": package["tracking_url"],
                        "weight_kg": csvfiles.decimal(package["weight_kg"]),
                        "line_no": line["line_no"],
                        "sku": line["sku"],
                        "qty": csvfiles.decimal(line["qty"]),
                    }
                )
        return "shipping_advice", rows

    _rows_not_shipped = _rows_shipped

    def _rows_received(self, fact):
        wro, receipt = fact["wro"], fact["receipt"]
        common = {
            "asn_ref": wro["asn_ref"],
            "receipt_ref": receipt["receipt_ref"],
            "warehouse_code": self._code(wro["fc"]),
            "received_at": stamp(receipt["received_at"]),
            "status": receipt["status"],
        }
        rows = [
            {
                **common,
                "line_no": line["line_no"],
                "sku": line["sku"],
                "qty_received": csvfiles.decimal(line["qty_received"]),
                "qty_damaged": csvfiles.decimal(line["qty_damaged"]),
                "uom": "EA",
                "lot": line["lot"] or "",
                "expiry": line["expiry"] or "",
            }
            for line in receipt["lines"]
        ]
        return "receipt_advice", rows

    def _rows_return_completed(self, fact):
        ret = fact["return"]
        order = (
            self.sb.warehouse.orders.get(ret["order_id"]) if ret["order_id"] else None
        )
        common = {
            "return_ref": ret["reference_id"] or str(ret["id"]),
            "order_ref": order["reference_id"] if order else "",
            "customer_order_ref": order["order_number"] if order else "",
            "warehouse_code": self._code(ret["fc"]),
            "received_at": stamp(ret["completed_at"]),
            "tracking_number": ret["tracking_number"],
        }
        rows = [
            {
                **common,
                "line_no": line["line_no"],
                "sku": line["sku"],
                "qty_restocked": csvfiles.decimal(line.get("restocked", 0)),
                "qty_damaged": csvfiles.decimal(line.get("damaged", 0)),
                "reason": line.get("reason") or "",
            }
            for line in ret["lines"]
        ]
        return "return_advice", rows

    def _rows_adjusted(self, fact):
        adj = fact["adjustment"]
        row = {
            "adjustment_ref": adj["id"],
            "warehouse_code": self._code(adj["fc"]),
            "adjusted_at": stamp(adj["adjusted_at"]),
            "line_no": 1,
            "sku": adj["sku"],
            "delta": csvfiles.decimal(adj["delta"]),
            "uom": "EA",
            "reason_code": adj["reason"],
            "lot": adj["lot"] or "",
            "reference": adj["reference"],
        }
        return "inventory_adjustment", [row]

    def drop_snapshot(self, snap: dict) -> tuple[str, bytes]:
        wh = self.sb.warehouse
        rows = [
            {
                "warehouse_code": self._code(snap["fc"]),
                "as_of": stamp(snap["as_of"]),
                "sku": line["sku"],
                "barcode": wh.products[line["sku"]]["barcode"] or "",
                "on_hand": csvfiles.decimal(line["on_hand"]),
                "available": csvfiles.decimal(line["available"]),
                "committed": csvfiles.decimal(line["committed"]),
                "damaged": csvfiles.decimal(line["damaged"]),
                "uom": "EA",
            }
            for line in snap["lines"]
        ]
        return self.drop("inventory_snapshot", rows)
