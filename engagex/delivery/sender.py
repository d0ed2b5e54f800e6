"""The sender: claims batches from the outbox, builds each message, sends, records.

One `Sender` per process (`manage.py sender`); any number of them share the outbox
safely (claims use `FOR UPDATE SKIP LOCKED`, DESIGN.md §5). A round:

1. Kill switches (re-read at most once a second): the global one idles the sender; an
   organization's one skips that organization.
2. Fairness: organizations with sending mailings take turns, one batch each per round,
   in rotating order — a million-recipient campaign gets the same turns as a 50-person
   one, so it can't starve anybody.
3. Build: per mailing, once (`PreparedMailing`): the compiled template and the message
   builder; per recipient: render with the contact's data, then assemble the bytes.
4. Send over the organization's transport (a pool of persistent SMTP connections, or a
   provider's API) on the sender's event-loop thread, and build the next batch
   meanwhile; record every outcome of a batch in one statement. At most one batch is on
   the wire per sender, so a crash can repeat at most that one.
5. Every few seconds: leases of crashed senders are recovered, finished mailings closed.

Pacing: an organization's hourly/daily limits and warm-up (`limits.py`) decide how
many it may claim; when they leave no room its mailings are marked throttled until the
window rolls over. Each recipient domain is paced on its own (`throttle.py`): messages
for a domain that asked us to slow down go back to the queue for later.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from engagex.contacts.models import Contact
from engagex.content.rendering import RenderLimitExceeded, TemplateProblem, compile_message
from engagex.delivery import outbox
from engagex.delivery.dkim import DkimSigner
from engagex.delivery.identifiers import unsubscribe_token, view_online_token
from engagex.delivery.killswitch import KillSwitchCache
from engagex.delivery.limits import allowance_return, allowance_take, send_limits
from engagex.delivery.mime import MailingEnvelope, MessageBuilder
from engagex.delivery.models import Mailing
from engagex.delivery.outbox import PERMANENT, TEMPORARY, Claimed, Outcome
from engagex.delivery.smtp import Outgoing, SmtpSettings
from engagex.delivery.throttle import DomainThrottle, is_throttling
from engagex.delivery.transports import TransportCache
from engagex.tracking.links import CLICKS, OPEN, tracked_html
from engagex.tracking.public_tokens import preferences_token
from engagex.tracking.tokens import TokenMaker
from engagex.web.emails import absolute_url

log = logging.getLogger(__name__)

BATCH_SIZE = 100
LIMITS_TTL = 10.0  # seconds a sender trusts an organization's limits (plan, warm-up)
HOUSEKEEPING_SECONDS = 5.0
IDLE_SECONDS = 0.5


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def platform_smtp() -> SmtpSettings:
    """The platform's own SMTP relay (in development: the dev mail capture)."""
    return SmtpSettings(
        host=settings.EMAIL_HOST or "localhost",
        port=settings.EMAIL_PORT,
        username=settings.EMAIL_HOST_USER,
        password=settings.EMAIL_HOST_PASSWORD,
        use_tls=settings.EMAIL_USE_SSL,
        start_tls=True if settings.EMAIL_USE_TLS else None,
        timeout=settings.EMAIL_TIMEOUT,
    )


@functools.cache
def platform_signer() -> DkimSigner | None:
    """The platform's DKIM signer when DKIM_DOMAIN and DKIM_PRIVATE_KEY_FILE are set
    (read once per process; a broken key fails loudly at the first mailing)."""
    if not settings.DKIM_DOMAIN:
        return None
    return DkimSigner(
        domain=settings.DKIM_DOMAIN,
        selector=settings.DKIM_SELECTOR,
        private_key_pem=Path(settings.DKIM_PRIVATE_KEY_FILE).read_bytes(),
    )


_SLOT = "SLOT0PLACEHOLDER"


def _url_pattern(name: str) -> str:
    """The absolute URL of a per-delivery page with a `{}` where the token goes
    (reverse() and the site URL once per mailing instead of once per message)."""
    url = absolute_url(reverse(name, args=[_SLOT]))
    return url.replace("{", "{{").replace("}", "}}").replace(_SLOT, "{}")


def _footer(organization) -> str:
    # Added when the template has no unsubscribe link: every marketing email must let
    # people leave, and name the sender's postal address (PRODUCT.md §E).
    address = escape(organization.postal_address).replace("\n", "<br>")
    return (
        '<div style="padding:24px;text-align:center;font:12px/1.5 sans-serif;color:#6b7280">'
        f"{escape(organization.name)}<br>{address}<br>"
        '<a href="{{ unsubscribe_url }}" style="color:#6b7280">Unsubscribe</a></div>'
    )


@dataclass
class PreparedMailing:
    """The expensive per-mailing work, done once per sender process."""

    mailing: Mailing
    compiled: object
    builder: MessageBuilder
    organization_context: dict
    # "https://app…/u/{}/", "…/p/{}/" and "…/m/mail/{}/": reversed once, filled per recipient.
    unsubscribe_pattern: str = ""
    preferences_pattern: str = ""
    view_online_pattern: str = ""
    # Tracking: how many links carry a click token, and whether there is a pixel.
    tracked_links: int = 0
    track_opens: bool = False
    tokens: TokenMaker | None = None

    @classmethod
    def prepare(cls, mailing: Mailing) -> PreparedMailing:
        organization = mailing.organization
        html = mailing.html
        if "unsubscribe_url" not in html:
            html = html.replace("</body>", _footer(organization) + "</body>", 1)
            if "unsubscribe_url" not in html:
                html += _footer(organization)
        tracked = tracked_html(mailing, html)
        html = tracked.html
        compiled = compile_message(
            subject=mailing.subject,
            preheader=mailing.preheader,
            html=html,
            text=mailing.text,
            ascii=True,  # 7bit instead of base64 where the recipient's data allows
        )
        envelope = MailingEnvelope(
            organization_id=str(mailing.organization_id),
            mailing_id=str(mailing.pk),
            from_name=mailing.from_name,
            from_email=mailing.from_email,
            reply_to=mailing.reply_to,
            bounce_domain=settings.BOUNCE_DOMAIN,
            unsubscribe_mailto=settings.BOUNCE_DOMAIN and f"unsubscribe@{settings.BOUNCE_DOMAIN}",
            feedback_id=f"{mailing.pk}:{mailing.organization_id}:{mailing.owner_type}:engagex",
        )
        return cls(
            mailing=mailing,
            compiled=compiled,
            builder=MessageBuilder(envelope, signer=platform_signer()),
            organization_context={
                "organization_name": organization.name,
                "organization_address": organization.postal_address,
            },
            unsubscribe_pattern=_url_pattern("delivery_public:unsubscribe"),
            preferences_pattern=_url_pattern("delivery_public:preferences"),
            view_online_pattern=_url_pattern("delivery_public:view_online"),
            tracked_links=len(tracked.links),
            track_opens=mailing.track_opens,
            tokens=TokenMaker(),
        )

    def contacts(self, contact_ids) -> dict[str, dict]:
        return {
            str(contact["id"]): contact
            for contact in Contact.objects.filter(
                organization_id=self.mailing.organization_id, pk__in=[c for c in contact_ids if c]
            ).values("id", "email", "first_name", "last_name", "fields")
        }

    def context(self, delivery_id: int, email: str, contact: dict) -> dict:
        """What a recipient's copy is rendered with (the sender and the view-online page)."""
        unsubscribe_url = self.unsubscribe_pattern.format(unsubscribe_token(delivery_id))
        first, last = contact.get("first_name", ""), contact.get("last_name", "")
        context = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "full_name": " ".join(part for part in (first, last) if part),
            "fields": contact.get("fields") or {},
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": self.preferences_pattern.format(preferences_token(delivery_id)),
            "view_online_url": self.view_online_pattern.format(view_online_token(delivery_id)),
            **self.organization_context,
        }
        if self.tracked_links:
            context[CLICKS] = self.tokens.clicks(delivery_id, self.tracked_links)
        if self.track_opens:
            context[OPEN] = self.tokens.open(delivery_id)
        return context

    def seed(self, contact_id: str | None) -> str:
        # Spintax picks per recipient, the same way on every render of their copy.
        return f"{contact_id}:{self.mailing.pk}"

    def build(self, batch: list[Claimed]) -> tuple[list[Outgoing], list[Outcome]]:
        """Messages for a claimed batch; deliveries that can't be rendered fail at once."""
        contacts = self.contacts(item.contact_id for item in batch)
        messages: list[Outgoing] = []
        failed: list[Outcome] = []
        for item in batch:
            contact = contacts.get(item.contact_id or "") or {}
            context = self.context(item.id, item.email, contact)
            try:
                rendered = self.compiled.render(context, seed=self.seed(item.contact_id))
                built = self.builder.build(
                    delivery_id=item.id,
                    to_email=item.email,
                    to_name=context["full_name"],
                    subject=rendered.subject,
                    html=rendered.html,
                    text=rendered.text,
                    unsubscribe_url=context["unsubscribe_url"],
                    unsubscribe_token=unsubscribe_token(item.id),
                )
            except (TemplateProblem, RenderLimitExceeded, ValueError) as error:
                failed.append(Outcome(item.id, PERMANENT, None, f"not sent: {error}"[:500]))
                continue
            messages.append(
                Outgoing(item.id, built.mail_from, built.rcpt_to, built.data, crlf=True)
            )
        return messages, failed


@dataclass
class _InFlight:
    """A batch on the wire: its SMTP future and what was already decided without it."""

    future: concurrent.futures.Future
    outcomes: list[Outcome]  # deliveries that failed before sending (render errors)
    emails: dict[int, str]


@dataclass
class Sender:
    worker: str
    smtp: SmtpSettings
    batch_size: int = BATCH_SIZE
    connections: int = 4
    killswitches: KillSwitchCache = field(default_factory=KillSwitchCache)
    _prepared: dict = field(default_factory=dict)
    _turn: int = 0
    _housekept_at: float = 0.0
    _limits: dict = field(default_factory=dict)  # organization id → (SendLimits, valid until)
    _blocked_until: dict = field(default_factory=dict)  # organization id → datetime
    _in_flight: _InFlight | None = None
    _domains: DomainThrottle = field(
        default_factory=lambda: DomainThrottle(settings.SENDING_DOMAIN_RATES)
    )

    def __post_init__(self) -> None:
        # The SMTP connections live on an event loop of their own thread: the database
        # work stays plain synchronous Django, and the sender works the same whatever
        # the calling thread is doing with asyncio.
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="sender-smtp", daemon=True
        )
        self._loop_thread.start()
        # Each organization's own transport (platform relay, its SMTP server or its
        # provider's API), rebuilt when its sending settings change.
        self.transports = TransportCache(
            platform_settings=self.smtp, platform_connections=self.connections, loop=self._loop
        )

    def _on_loop(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        try:
            self._settle()
            self._on_loop(self.transports.close_all())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join()
            self._loop.close()

    def _mailings_by_organization(self) -> list[list[Mailing]]:
        by_org: dict[str, list[Mailing]] = {}
        for mailing in (
            Mailing.objects.filter(status=Mailing.Status.SENDING)
            .select_related("organization")
            .order_by("started_at", "pk")
        ):
            by_org.setdefault(str(mailing.organization_id), []).append(mailing)
        groups = list(by_org.values())
        if groups:  # rotate, so each organization leads in turn
            self._turn = (self._turn + 1) % len(groups)
            groups = groups[self._turn :] + groups[: self._turn]
        return groups

    def _prepared_for(self, mailing: Mailing) -> PreparedMailing:
        prepared = self._prepared.get(mailing.pk)
        if prepared is None:
            prepared = self._prepared[mailing.pk] = PreparedMailing.prepare(mailing)
        return prepared

    def run_once(self) -> int:
        """One fair round over the organizations; returns how many deliveries it handled."""
        self._housekeeping()
        state = self.killswitches.state()
        if state.global_on:
            self._settle()
            return 0
        handled = 0
        for mailings in self._mailings_by_organization():
            organization = mailings[0].organization
            if state.stops(organization.pk):
                continue
            for mailing in mailings:
                batch = self._claim(organization, mailing)
                if batch is None:
                    break  # the organization's hourly/daily limit is reached
                if batch:
                    handled += self._send(mailing, batch)
                    break  # one batch per organization per round
        if not handled:
            self._settle()  # nothing more to build: record what is on the wire
        return handled

    def _claim(self, organization, mailing: Mailing) -> list[Claimed] | None:
        """Claim a batch within the organization's limits; None when they leave no room."""
        now = timezone.now()
        blocked = self._blocked_until.get(organization.pk)
        if blocked and blocked > now:
            return None
        cached = self._limits.get(organization.pk)
        if cached is None or cached[1] < time.monotonic():
            cached = (send_limits(organization, now), time.monotonic() + LIMITS_TTL)
            self._limits[organization.pk] = cached
        limits = cached[0]
        if limits.unlimited:
            return outbox.deliveries_claim(
                worker=self.worker, mailing=mailing, limit=self.batch_size
            )
        granted, until = allowance_take(organization, self.batch_size, limits, now)
        if not granted:
            self._blocked_until[organization.pk] = until
            Mailing.objects.filter(
                organization=organization, status=Mailing.Status.SENDING
            ).exclude(throttled_until=until).update(
                throttled_until=until, throttle_reason=limits.reason[:200]
            )
            return None
        batch = outbox.deliveries_claim(worker=self.worker, mailing=mailing, limit=granted)
        allowance_return(organization, granted - len(batch), now)
        if batch and mailing.throttled_until:
            Mailing.objects.filter(organization=organization, pk=mailing.pk).update(
                throttled_until=None, throttle_reason=""
            )
            mailing.throttled_until = None
        return batch

    def _paced(self, batch: list[Claimed]) -> list[Claimed]:
        """The part of the batch its recipient domains have room for now; the rest goes
        back to the queue, due when their domain has room again."""
        now = timezone.now()
        ready, later = [], {}
        for item in batch:
            wait = self._domains.admit(_domain(item.email))
            if wait:
                later[item.id] = now + timedelta(seconds=wait)
            else:
                ready.append(item)
        outbox.deliveries_defer(worker=self.worker, due=later)
        return ready

    def _send(self, mailing: Mailing, batch: list[Claimed]) -> int:
        handled = len(batch)
        paced = self._paced(batch)
        if len(paced) < len(batch):  # the rest waits for its domain: give its room back
            allowance_return(mailing.organization, len(batch) - len(paced))
        batch = paced
        if not batch:
            return handled
        try:
            messages, outcomes = self._prepared_for(mailing).build(batch)
        except (TemplateProblem, RenderLimitExceeded) as error:
            # The frozen content itself doesn't compile: nothing of this mailing can go.
            outcomes = [Outcome(item.id, PERMANENT, None, f"not sent: {error}") for item in batch]
            messages = []
        # The previous batch was on the wire while this one was being built: settle it,
        # then put this one on the wire and go build the next.
        self._settle()
        if messages:
            transport = self.transports.get(mailing.organization_id)
            future = asyncio.run_coroutine_threadsafe(transport.send_batch(messages), self._loop)
            self._in_flight = _InFlight(future, outcomes, {item.id: item.email for item in batch})
        else:
            outbox.deliveries_record(worker=self.worker, outcomes=outcomes)
        return handled

    def _settle(self) -> None:
        """Wait for the batch on the wire, if any, and record its outcomes."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return
        sent = in_flight.future.result()
        for outcome in sent:
            if outcome.result == TEMPORARY and is_throttling(outcome.code, outcome.reply):
                self._domains.deferred(_domain(in_flight.emails[outcome.delivery_id]))
        outbox.deliveries_record(worker=self.worker, outcomes=in_flight.outcomes + sent)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._housekept_at < HOUSEKEEPING_SECONDS:
            return
        self._housekept_at = now
        outbox.deliveries_recover()
        if outbox.mailings_finish():
            self._prepared.clear()

    def run(self, stop) -> None:
        """Until `stop` (a threading.Event) is set."""
        while not stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # keep serving; the lease recovers whatever was in flight
                log.exception("sender round failed")
                close_old_connections()
                handled = 0
            if not handled:
                stop.wait(IDLE_SECONDS)
