"""Alerts of a domain's owner: once per breach of its latency objective.

A cron compares, for every policy of the active backends, the latency p95 of
the events applied in the last ``ALERT_WINDOW`` and the age of the oldest
event still waiting (a backlog that grows faster than it drains ages) with the
policy's objective. A policy that breaches it opens one alert: an activity for
the owner of the domain (the policy's exception owner, else a Retail Connect
manager) and an e-mail (the notification of the activity, in the owner's
chosen channel). While the breach lasts nothing more is sent; once the
figures are back within the objective the alert closes (its activity done,
a note in the policy's chatter), and a new breach alerts again.
"""

import logging
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models

from .common import MANAGER

_logger = logging.getLogger(__name__)

ALERT_WINDOW = timedelta(minutes=15)


class RetailSyncPolicy(models.Model):
    _name = "retail.sync.policy"
    _inherit = ["retail.sync.policy", "mail.activity.mixin"]

    alert_since = fields.Datetime(
        "Objective breached since",
        readonly=True,
        copy=False,
        help="Set while the latency objective is breached (the owner was alerted "
        "once); cleared when the figures are back within it.",
    )
    alert_reason = fields.Char("Breach", readonly=True, copy=False)
    alert_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null"
    )

    @api.model
    def _cron_watch_alerts(self):
        """Alert the owners of newly breached objectives, close recovered
        alerts. Return ``(alerted, recovered)`` policies."""
        backends = self.env["retail.backend"].search([("state", "=", "active")])
        stats = self._watch_stats(backends, window=ALERT_WINDOW)
        alerted, recovered = self.browse(), self.browse()
        for policy in self.browse(list(stats)):
            figures = stats[policy.id]
            if figures["breached"] and not policy.alert_since:
                policy._watch_alert(figures)
                alerted |= policy
            elif figures["breached"]:
                # still breached: the reason kept current, nobody alerted again
                reason = policy._watch_breach_text(figures)[:250]
                if reason != policy.alert_reason:
                    policy.sudo().alert_reason = reason
            elif policy.alert_since:
                policy._watch_recover(figures)
                recovered |= policy
        if alerted or recovered:
            _logger.info(
                "retail_connect: %s objective(s) breached, %s recovered",
                len(alerted),
                len(recovered),
            )
        return alerted, recovered

    def _watch_breach_text(self, figures):
        _ = self.env._
        texts = []
        if figures["latency_breached"]:
            texts.append(
                _(
                    "latency p95 of the last %(minutes)s min is %(p95)s s, "
                    "objective %(objective)s s",
                    minutes=int(ALERT_WINDOW.total_seconds() // 60),
                    p95=round(figures["p95_s"]),
                    objective=figures["objective_s"],
                )
            )
        if figures["backlog_breached"]:
            texts.append(
                _(
                    "%(count)s event(s) wait, the oldest for %(age)s s, "
                    "objective %(objective)s s: the backlog is not draining",
                    count=figures["backlog"],
                    age=figures["backlog_age_s"],
                    objective=figures["objective_s"],
                )
            )
        return "; ".join(texts)

    def _watch_owner(self):
        self.ensure_one()
        if self.owner_user_id:
            return self.owner_user_id
        group = self.env.ref(MANAGER)
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [("groups_id", "in", group.ids), ("share", "=", False)],
                order="id",
                limit=1,
            )
        )

    def _watch_alert(self, figures):
        self.ensure_one()
        _ = self.env._
        reason = self._watch_breach_text(figures)
        summary = _("%(policy)s: objective breached", policy=self.display_name)
        body = _(
            "%(policy)s breaches its latency objective: %(reason)s. Open the "
            "overview (Retail Connect > Live), then the waiting or failed events "
            "and the exceptions of this domain: a stopped job runner, a paused "
            "backend, a platform throttling us or a failing record are the "
            "usual causes. This alert is sent once; it closes by itself when "
            "the figures are back within the objective.",
            policy=self.display_name,
            reason=reason,
        )
        owner = self._watch_owner()
        policy = self.sudo()
        values = {"alert_since": fields.Datetime.now(), "alert_reason": reason[:250]}
        if owner:
            # the activity is the owner's to-do; its notification is the e-mail
            # (sent in the owner's chosen channel: e-mail or Odoo's inbox)
            activity = policy.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=owner.id,
                summary=summary,
                note=escape(body),
            )
            values["alert_activity_id"] = activity.id
        else:
            policy.message_post(
                body=escape(body), subject=summary, subtype_xmlid="mail.mt_note"
            )
        policy.write(values)

    def _watch_recover(self, figures):
        self.ensure_one()
        _ = self.env._
        policy = self.sudo()
        minutes = int(
            (fields.Datetime.now() - policy.alert_since).total_seconds() // 60
        )
        note = _(
            "Back within the objective after %(minutes)s min (latency p95 "
            "%(p95)s s, %(count)s event(s) waiting).",
            minutes=minutes,
            p95=round(figures["p95_s"]),
            count=figures["backlog"],
        )
        # the owner may have marked it done already
        activity = policy.alert_activity_id.exists().filtered("active")
        if activity:
            activity.action_feedback(feedback=note)
        else:
            policy.message_post(body=Markup("<p>%s</p>") % note)
        policy.write(
            {"alert_since": False, "alert_reason": False, "alert_activity_id": False}
        )
