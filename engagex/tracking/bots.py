"""Telling people from machines on the open and click endpoints (PRODUCT.md §F).

Security gateways (Proofpoint, Mimecast, Barracuda, Microsoft's Safe Links …) fetch
every link of a message as it arrives; Apple Mail Privacy Protection loads every pixel
through Apple's proxy whether or not the message is read; browsers prefetch. Those hits
are kept (the report shows them) but flagged, and never counted as people.

At hit time we flag what the request itself shows: HEAD and prefetch requests, known
scanner user agents, Apple's privacy proxy, and clicks within a second of delivery.
The roll-up adds what only a sequence shows: a click within a second of an open or of
another click of the same message (a scanner walking the links).
"""

from __future__ import annotations

import ipaddress
import re

# Substrings (lower case) of user agents that belong to scanners, link checkers,
# previewers and HTTP libraries rather than a person's mail client or browser.
SCANNER_AGENTS = (
    "barracuda",
    "proofpoint",
    "mimecast",
    "forcepoint",
    "trendmicro",
    "sophos",
    "fortiguard",
    "symantec",
    "messagelabs",
    "zscaler",
    "cisco",
    "ironport",
    "safelinks",
    "bingpreview",
    "google-safety",
    "googlebot",
    "bot/",
    "bot;",
    "crawler",
    "spider",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "apache-httpclient",
    "node-fetch",
    "axios/",
    "facebookexternalhit",
    "slackbot",
    "twitterbot",
    "linkedinbot",
    "whatsapp",
    "skypeuripreview",
    "discordbot",
    "telegrambot",
)
_SCANNER = re.compile("|".join(re.escape(agent) for agent in SCANNER_AGENTS))
# Apple Mail Privacy Protection fetches from Apple's network (17.0.0.0/8) with a bare
# "Mozilla/5.0" user agent.
_APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
_PREFETCH_HEADERS = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")

HEAD = "HEAD request"
PREFETCH = "prefetch"
NO_AGENT = "no user agent"
SCANNER = "scanner user agent"
PRIVACY_PROXY = "privacy proxy (Apple Mail)"
FAST_CLICK = "click within 1 s of delivery"
SEQUENCE = "click within 1 s of an open or click"


def request_bot_reason(method: str, meta: dict, user_agent: str, ip: str | None) -> str:
    """Why this hit looks automated ("" for a person)."""
    if method == "HEAD":
        return HEAD
    for header in _PREFETCH_HEADERS:
        value = meta.get(header, "").lower()
        if "prefetch" in value or "preview" in value:
            return PREFETCH
    agent = user_agent.strip().lower()
    if not agent:
        return NO_AGENT
    if _SCANNER.search(agent):
        return SCANNER
    if agent == "mozilla/5.0" and ip:
        try:
            if ipaddress.ip_address(ip) in _APPLE_NETWORK:
                return PRIVACY_PROXY
        except ValueError:
            pass
    return ""
