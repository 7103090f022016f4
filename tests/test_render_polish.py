"""What a chat user reads: each quote once, sources by title and outlet, no ids, file names or raw mentions,
no repeated source line, no doubled quote marks, page links beside original links, every brief message with
content. Pure renderer tests (Slack Block Kit and Discord embeds)."""

from __future__ import annotations

import json

from bot.adapters import discord_render as dr
from bot.adapters import slack_render as sr
from bot.domain import Answer, Brief, BriefQuote, Citation, KeyPoint, Quote, StoryBrief


def cite(n: int, url: str | None = "https://news.example/strike", text: str = "“It is over,” she said.") -> Citation:
    return Citation(n=n, source="/data/inbox/000_4acb8d4b237bf1ea.txt", text=text, doc_id=7, start=10, end=40,
                    title="Harbour strike ends", url=url, outlet="The Courier")


def page(c: Citation) -> str:
    return f"https://bot.example/c/token{c.n}#q"


def quoted_answer() -> Answer:
    q = Quote(text="“It is over”", start=10, end=22, speaker="Mara Olsen", description="union leader")
    return Answer(question="<@4000> did it end?", found=True, id="a1b2c3d4e5f6",
                  text="Mara Olsen said: “It is over” [1]. (Source: Harbour strike ends — 000_4acb8d4b237bf1ea.txt.)",
                  citations=[cite(1)], quotes=[(q, cite(1)), (q, cite(1))])


def test_slack_answer_polish() -> None:
    msg = sr.render_answer(quoted_answer(), links=page)
    text = json.dumps(msg["blocks"], ensure_ascii=False)
    assert "(Source:" not in text and "(Source:" not in msg["text"]  # the citation line says it once
    assert "000_4acb8d4b237bf1ea" not in text
    assert "““" not in text and "””" not in text
    assert text.count("It is over") == 2  # in the answer and in the citation snippet: not again as a quote
    assert "<https://bot.example/c/token1#q|Harbour strike ends — The Courier> · <https://news.example/strike|original>" in text


def test_slack_citation_without_pages_links_the_original_and_without_url_names_the_title() -> None:
    assert sr.citation_line(cite(1)).startswith("*[1]* <https://news.example/strike|Harbour strike ends — The Courier>")
    line = sr.citation_line(cite(2, url=None))
    assert line.startswith("*[2]* Harbour strike ends — The Courier:") and ".txt" not in line


def test_discord_answer_polish() -> None:
    [reply] = dr.render_answer(quoted_answer(), links=page)
    d = reply.embeds[0].to_dict()
    assert d["title"] == "@someone did it end?"
    assert "footer" not in d  # no internal answer id
    assert "(Source:" not in d["description"]
    names = [f["name"] for f in d["fields"]]
    assert names == ["Sources"]  # the quote is in the answer text already: not repeated as a field
    assert d["fields"][0]["value"] == ("[1] [Harbour strike ends — The Courier](https://bot.example/c/token1#q)"
                                       " · [original](https://news.example/strike)")
    missing = Answer(question="<@4000> <#55> <@&66> what?", text="Nothing.", found=False)
    footer = dr.render_answer(missing)[0].embeds[0].to_dict()["footer"]["text"]
    assert footer == "Question: @someone #channel @role what?"


def test_discord_quote_fields_once_without_doubled_marks() -> None:
    q = Quote(text="“Never again”", start=0, end=13, speaker="Lena Moss")
    a = Answer(question="q", text="The strike ended [1].", found=True, citations=[cite(1)],
               quotes=[(q, cite(1)), (q, cite(1))])
    fields = [f for f in dr.render_answer(a)[0].embeds[0].to_dict()["fields"] if f["name"] == "Lena Moss"]
    assert [f["value"] for f in fields] == ["“Never again” [1]"]


def test_first_brief_message_is_never_only_the_header() -> None:
    c = cite(1)
    big = StoryBrief(story_id=1, headline="A long story", summary="Summary.",
                     key_points=[KeyPoint(f"Point {i}", [c]) for i in range(3)],
                     quotes=[BriefQuote("Mara Olsen", f"Quote {i}", c) for i in range(3)])
    brief = Brief(stories=[big, big], generated_at="2026-11-30T08:00:00Z", id="b1")
    messages = sr.render_brief(brief, max_blocks=4, links=page, page="https://bot.example/b/t")
    assert len(messages) > 1
    for m in messages:
        assert any(b["type"] in {"section", "context"} for b in m["blocks"] if b["type"] != "header")
    assert any(b["type"] == "section" for b in messages[0]["blocks"])  # the first story starts in message 1
    assert "<https://bot.example/b/t|Open this brief as a page>" in json.dumps(messages[0]["blocks"])


def test_discord_brief_as_text_where_embeds_are_not_allowed() -> None:
    c = cite(1)
    story = StoryBrief(story_id=1, headline="Harbour strike", summary="It ended.", key_points=[KeyPoint("Pay", [c])])
    replies = dr.render_brief(Brief(stories=[story], generated_at="x"), embeds=False, links=page,
                              page="https://bot.example/b/t")
    assert all(not r.embeds for r in replies)
    text = "\n".join(r.content for r in replies)
    assert "**Harbour strike**" in text and "[Open as a page](<https://bot.example/b/t>)" in text
    assert "https://bot.example/c/token1#q" in text
