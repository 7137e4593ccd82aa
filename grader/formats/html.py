"""``html``: the Markdown feedback as a self-contained page that reads well on a phone.

The same content as ``markdown``, rendered by mistune (the Markdown parser nbconvert brings) with
its table plugin. Raw HTML in the text (a student's exception message, say) is escaped, and the
page has no script and loads nothing: it can be opened anywhere, attached, or served as is.
"""

from __future__ import annotations

import html

import mistune

from grader.formats import markdown
from grader.formats.failures import number
from grader.results import Report

_STYLE = """
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
h1, h2, h3 { overflow-wrap: anywhere; } h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #d0d7de; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; }
td:nth-child(n+2), th:nth-child(n+2) { text-align: right; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: .85rem; }
img { max-width: 100%; height: auto; }
blockquote { margin: 1rem 0; padding: .25rem 1rem; border-left: 4px solid #d0d7de; color: #59636e; }
"""
_MARKDOWN = mistune.create_markdown(escape=True, plugins=["table"])


def render(report: Report, *, hidden_visibility: str) -> str:
    return page(f"Feedback: {number(report.earned)} / {number(report.possible)} points", markdown.render(report, hidden_visibility=hidden_visibility))


def page(title: str, text: str) -> str:
    """The Markdown ``text`` as a self-contained HTML page titled ``title``."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n{_MARKDOWN(text)}</main>\n</body>\n</html>\n"
    )
