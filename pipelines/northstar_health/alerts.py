"""Alerts to a webhook with a Slack-compatible payload, de-duplicated by key within a window.

Why de-duplication with a state file: the regression watch and the health commands run repeatedly (cron, after every
deployment); without it the same exhausted budget would page on every run. An alert's ``key`` (e.g.
``regression:orders_daily:failure_rate``) is sent at most once per ``window``; the file remembers when each key was
last sent, so separate processes share the suppression. A failed POST is not recorded as sent, so it is retried.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Alert:
    key: str
    severity: str  # critical | warning | info
    title: str
    text: str
    fields: tuple[tuple[str, str], ...] = ()

    def slack_payload(self) -> dict[str, Any]:
        """Slack incoming-webhook shape: ``text`` (fallback) plus blocks; also accepted by Mattermost/Rocket.Chat."""
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": f"[{self.severity.upper()}] {self.title}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": self.text}},
        ]
        if self.fields:
            blocks.append({"type": "section",
                           "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in self.fields]})
        return {"text": f"[{self.severity.upper()}] {self.title}: {self.text}", "blocks": blocks}


class WebhookAlerter:
    """Posts alerts to ``url`` unless the same key was sent within ``window`` (state in ``state_path``)."""

    def __init__(self, url: str, state_path: Path, window: timedelta = timedelta(hours=1), timeout_s: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must be http(s); got {url.split('://')[0]!r}")
        self.url, self.state_path, self.window, self.timeout_s = url, state_path, window, timeout_s

    def _load(self) -> dict[str, str]:
        if not self.state_path.exists():
            return {}
        data = json.loads(self.state_path.read_text())
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, sent: dict[str, str]) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".alerts-")
        with os.fdopen(fd, "w") as fh:
            json.dump(sent, fh, sort_keys=True)
        os.replace(tmp, self.state_path)

    def send(self, alert: Alert, now: datetime) -> bool:
        """True when posted, False when suppressed as a duplicate. Raises on HTTP errors (nothing recorded)."""
        sent = self._load()
        last = sent.get(alert.key)
        if last is not None and now - datetime.fromisoformat(last) < self.window:
            return False
        body = json.dumps(alert.slack_payload()).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__: http/https only)
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (scheme checked above)
            response.read()
        sent[alert.key] = now.isoformat()
        self._save(sent)
        return True
