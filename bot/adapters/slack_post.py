"""Slack's Web API client as the bot uses it, and digests posted through it.

Owns the retry policy of the WebClient and the reasons a post is refused; layout comes from slack_render.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.adapters import slack_render as render
from bot.domain import Brief, Channel, Citation
from bot.service import PageLinks


def page_links(linker: PageLinks | None, where: Channel) -> render.Links:
    """A citation's page URL, signed for the channel it is posted to; None when pages are off."""
    if linker is None:
        return None

    def url(c: Citation) -> str:
        return linker.citation_url(c, where)
    return url


def make_client(bot_token: str, api_url: str | None = None, timeout: int = 30) -> WebClient:
    """A WebClient that retries connection errors and honours 429 Retry-After."""
    kwargs: dict[str, Any] = {}
    if api_url:
        kwargs["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(token=bot_token, timeout=timeout, **kwargs,
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                     RateLimitErrorRetryHandler(max_retry_count=3)])



class SlackPostError(RuntimeError):
    """Slack refused a digest post; the message says why and what to do."""

    def __init__(self, channel_id: str, error: str) -> None:
        self.channel_id, self.error = channel_id, error
        hints = {
            "not_in_channel": f"the bot is not a member of channel {channel_id}: invite it with /invite @briefbot",
            "channel_not_found": f"channel {channel_id} was not found (deleted, or the bot cannot see it)",
            "is_archived": f"channel {channel_id} is archived",
            "invalid_auth": "the Slack bot token is invalid (check SLACK_BOT_TOKEN)",
            "not_authed": "no Slack bot token was sent (check SLACK_BOT_TOKEN)",
            "account_inactive": "the Slack bot token belongs to a deactivated app or workspace",
            "ratelimited": f"Slack kept rate-limiting posts to channel {channel_id}",
        }
        super().__init__(f"could not post to Slack: {hints.get(error, f'channel {channel_id}: {error}')}")


class SlackPoster:
    """Posts digests (briefs) to a channel for the scheduler."""

    def __init__(self, client: WebClient, linker: PageLinks | None = None) -> None:
        self.client = client
        self.linker = linker

    @classmethod
    def from_token(cls, bot_token: str, api_url: str | None = None, linker: PageLinks | None = None) -> SlackPoster:
        """A poster with its own retrying client."""
        return cls(make_client(bot_token, api_url), linker)

    def post_brief(self, channel_id: str, brief: Brief, topic: str | None = None) -> str:
        """Post the brief (in as many messages as it needs); returns the first message's ts."""
        first = ""
        where = Channel("slack", channel_id)
        url = self.linker.brief_url(brief.id, where) if self.linker is not None and brief.id else None
        for page in render.render_brief(brief, topic, links=page_links(self.linker, where), page=url):
            try:
                resp = self.client.chat_postMessage(channel=channel_id, unfurl_links=False, unfurl_media=False,
                                                    **page)
            except SlackApiError as e:
                raise SlackPostError(channel_id, str(e.response.get("error") or "unknown_error")) from e
            first = first or str(resp["ts"])
        return first
