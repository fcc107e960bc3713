"""A page on a phone in Chromium: 390 px wide, no horizontal scroll, no word cut across lines."""

from __future__ import annotations

from typing import Any

PHONE = {"width": 390, "height": 844}


# The words of the page's text (not its code, where a long token may wrap anywhere) that a
# line break cuts in two: their letters lie on more than one line.
_BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("code, pre, textarea, svg")) continue;
    for (const word of node.data.matchAll(/[A-Za-z']{2,}/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
  }
  return broken;
}"""


def fits(page: Any, url: str | None = None) -> None:
    """The page (at `url`, or the one open) at 390 px: no horizontal scroll, no word cut."""
    if url is not None:
        page.goto(url)
    url = page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{url}: {width} px wide at a 390 px viewport"
    assert page.evaluate(_BROKEN_WORDS) == [], f"{url}: words broken across lines"
