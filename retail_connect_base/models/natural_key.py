"""Natural keys: an Odoo record described so that another database finds its own.

Ids never survive a move between databases (a promoted configuration goes from
staging to production). A record is described by its xmlid when it has one (a
module's data: ``base.EUR``, ``stock.warehouse0``) and by a business key
unique in the backend's company (``KEYS``); the other database looks the xmlid
up first, else the business key, always among the records of the backend's
company (or shared ones). A record with neither cannot be carried: the error
says which key to give it.

Business keys (first alternative with every value set):

- warehouse: code; location: complete name (``WH/Stock``);
- journal: code; payment method line: journal, type and name;
- product: internal reference (``default_code``), else barcode;
- tax: name, type (sale/purchase) and amount; account: code;
- pricelist, sales team: name; currency: name (``EUR``);
- another backend: platform and name.
"""

from odoo.exceptions import UserError

KEYS = {
    "stock.warehouse": (("code",),),
    "stock.location": (("complete_name",),),
    "account.journal": (("code",),),
    "account.payment.method.line": (("journal_id", "payment_type", "name"),),
    "product.product": (("default_code",), ("barcode",)),
    "account.tax": (("name", "type_tax_use", "amount"),),
    "account.account": (("code",),),
    "product.pricelist": (("name",),),
    "crm.team": (("name",),),
    "res.currency": (("name",),),
    "retail.backend": (("platform", "name"),),
}
LABEL = "name"  # in a key, for people only: never matched


def describe(record):
    """The natural key of ``record`` as plain JSON values (None: no record)."""
    if not record:
        return None
    record.ensure_one()
    record = record.sudo()
    key = {}
    xmlid = record.get_external_id().get(record.id)
    # __export__ / __import__ ids are made up by one database for itself
    if xmlid and not xmlid.startswith("__"):
        key["xmlid"] = xmlid
    for names in KEYS.get(record._name, ()):
        values = {name: _plain(record[name]) for name in names}
        if all(value not in (None, False, "") for value in values.values()):
            key.update(values)
            break
    if not key:
        raise UserError(
            record.env._(
                "%(record)s (%(model)s) has neither an external id nor a business "
                "key (%(key)s): another database cannot find it. Give it one.",
                record=record.display_name,
                model=record._description,
                key=_key_names(record._name),
            )
        )
    key[LABEL] = record.display_name
    return key


def resolve(env, model, key, company):
    """The record of ``model`` that ``key`` describes in this database, among
    ``company``'s and shared ones: empty when there is none (create it first);
    a clear error when the business key matches several."""
    records = env[model].sudo().with_company(company)
    if not key:
        return records.browse()
    if not isinstance(key, dict):
        raise UserError(
            env._(
                "The file names a %(model)s as %(key)r, not as a natural key: "
                "export the file again from the other database.",
                model=records._description,
                key=key,
            )
        )
    if key.get("xmlid"):
        found = env.ref(key["xmlid"], raise_if_not_found=False)
        if found and found._name == model and _in_company(found, company):
            return records.browse(found.id)
    domain = []
    for name, value in key.items():
        if name in ("xmlid", LABEL):
            continue
        field = records._fields.get(name)
        if field is None:
            return records.browse()
        if field.type == "many2one":
            target = resolve(env, field.comodel_name, value, company)
            if not target:
                return records.browse()
            value = target.id
        domain.append((name, "=", value))
    if not domain:
        return records.browse()
    found = records.search(domain + _company_domain(records, company), limit=2)
    if len(found) > 1:
        raise UserError(
            env._(
                "%(count)s records of %(model)s match %(key)s in %(company)s: "
                "make the key unique (%(names)s).",
                count=len(found),
                model=records._description,
                key=label(key),
                company=company.name,
                names=_key_names(model),
            )
        )
    return found


def label(key):
    """How people read ``key``: its name and what identifies it."""
    if not key:
        return "—"
    ids = [
        f"{name}={label(value) if isinstance(value, dict) else value}"
        for name, value in key.items()
        if name != LABEL
    ]
    return f"{key.get(LABEL) or '?'} ({', '.join(ids)})"


def _plain(value):
    if hasattr(value, "_name"):  # a many2one: its own natural key
        return describe(value)
    return value


def _company_domain(records, company):
    if "company_id" in records._fields and records._fields["company_id"].store:
        return [("company_id", "in", (False, company.id))]
    if "company_ids" in records._fields:
        return [("company_ids", "in", company.id)]
    return []


def _in_company(record, company):
    if "company_id" in record._fields:
        return not record.company_id or record.company_id == company
    if "company_ids" in record._fields:
        return not record.company_ids or company in record.company_ids
    return True


def _key_names(model):
    return " or ".join(", ".join(names) for names in KEYS.get(model, ())) or "xmlid"
