"""Dropping what a reader of the page never sees, before any text is extracted from HTML.

Hidden elements (`hidden`, `aria-hidden="true"`, inline or simple-stylesheet `display:none` and kin, `<template>`,
closed dialogs) and visually-hidden utility classes go, so planted text cannot be stored, quoted or cited.
Pure function over a string; imports lxml only.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

# CSS that hides an element (inline in a style attribute, or in a rule of a <style> element)
_HIDING = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*0+(?:\.0+)?\s*(?:;|!|$)"
    r"|font-size\s*:\s*0+(?:\.0+)?(?:px|em|rem|pt|%)?\s*(?:;|!|$)",
    re.I,
)
# class names that mean "not on screen" in common CSS frameworks (Bootstrap, Tailwind, WordPress, GOV.UK, ...)
_HIDDEN_CLASSES = frozenset({"hidden", "d-none", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text",
                             "screenreader-only", "is-hidden", "invisible", "hide", "u-hidden", "govuk-visually-hidden",
                             "offscreen", "element-invisible", "a11y-hidden"})
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9]*)?(?:([.#])([\w-]+))?$", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _hidden_by_stylesheets(root: lxml.html.HtmlElement) -> tuple[set[str], set[str], set[str]]:
    """Classes, ids and tag names that a page's own <style> rules hide (simple selectors only: `.x`, `#y`, `p.x`)."""
    classes: set[str] = set()
    ids: set[str] = set()
    tags: set[str] = set()
    for style in root.iter("style"):
        css = re.sub(r"/\*.*?\*/", "", style.text_content() or "", flags=re.S)
        for selectors, body in _RULE.findall(css):
            if not _HIDING.search(body):
                continue
            for sel in selectors.split(","):
                m = _SIMPLE_SELECTOR.match(sel.strip())
                if not m:
                    continue
                tag, kind, name = m.groups()
                if kind == ".":
                    classes.add(name)
                elif kind == "#":
                    ids.add(name)
                elif tag and tag.lower() not in {"html", "body", "main", "article"}:
                    tags.add(tag.lower())
    return classes, ids, tags


def _is_hidden(el: lxml.html.HtmlElement, classes: set[str], ids: set[str], tags: set[str]) -> bool:
    a = el.attrib
    if "hidden" in a or a.get("aria-hidden", "").strip().lower() == "true":
        return True
    if el.tag == "dialog" and "open" not in a:
        return True
    if el.tag == "template" or el.tag in tags:  # a template's content is inert until a script uses it
        return True
    if _HIDING.search(a.get("style", "")):
        return True
    names = set(a.get("class", "").split())
    return bool(names & (_HIDDEN_CLASSES | classes)) or a.get("id", "") in ids


def drop_hidden(html: str) -> str:
    """The page with every element a browser would not show removed (the rest unchanged as markup)."""
    if not html.strip():
        return html
    try:
        root = lxml.html.document_fromstring(_XML_DECL.sub("", html, count=1))
    except (lxml.etree.ParserError, ValueError):
        return html  # nothing parseable: the extractor will find no text either
    classes, ids, tags = _hidden_by_stylesheets(root)
    doomed = [el for el in root.iter() if isinstance(el.tag, str) and el.tag not in {"html", "head", "body"}
              and _is_hidden(el, classes, ids, tags)]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the tail text, which belongs to the parent and is shown
    return str(lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"))
