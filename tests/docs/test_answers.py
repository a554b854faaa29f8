"""The written answers (answers/*.md) as documents.

The links of the answers must lead somewhere, each answer must open with its paragraph and show its
diagram (the example rows that answer 2 quotes are checked against the week's tables by
tests/e2e/test_scripted_week.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.paths import PROJECT_ROOT

ANSWERS = PROJECT_ROOT / "answers"
ANSWER_FILES = sorted(ANSWERS.glob("0*.md"))
MARKDOWN_FILES = sorted(ANSWERS.glob("*.md"))
LINK = re.compile(r"(?<!!)\[(?:[^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The markdown without code blocks or inline code, where links cannot be."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", path.read_text(encoding="utf-8")), re.MULTILINE)
    return {github_slug(heading) for heading in headings}


def relative_links(path: Path) -> list[str]:
    links = LINK.findall(prose(path.read_text(encoding="utf-8")))
    return [link for link in links if not re.match(r"^[a-z][a-z0-9+.-]*:", link)]


def test_the_answers_are_there():
    names = {path.name for path in MARKDOWN_FILES}
    assert {"README.md", "01_keeping_sales_data_current.md", "02_changing_source_data.md"} <= names


def test_the_index_links_every_answer_and_the_faults_file():
    links = set(relative_links(ANSWERS / "README.md"))
    assert {path.name for path in ANSWER_FILES} | {"faults.md"} <= links


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    links = relative_links(path)
    assert links or path.name == "faults.md", f"{path.name} links to nothing in the repository"
    broken = []
    for link in links:
        target_text, _, anchor = link.partition("#")
        target = (path.parent / target_text).resolve() if target_text else path
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif PROJECT_ROOT not in target.parents and target != PROJECT_ROOT:
            broken.append(f"{link}: outside the repository")
        elif anchor and target.suffix != ".md":
            broken.append(f"{link}: an anchor into a non-markdown file cannot be checked")
        elif anchor and anchor not in anchors(target):
            broken.append(f"{link}: no heading '#{anchor}' in {target.name}")
    assert not broken, f"{path.name}: " + "; ".join(broken)


# The opening paragraph is the answer a reviewer reads in half a minute: long enough to answer the
# question on its own, short enough to be read at once (the case asks for about 120 words).
OPENING_WORDS = (80, 130)


def words_read(paragraph: str) -> int:
    """Words as a reader sees them: a link counts as its text, not its target."""
    return len(re.sub(r"(?<!!)\[([^\]]*)\]\([^)]*\)", r"\1", paragraph).split())


@pytest.mark.parametrize("path", ANSWER_FILES, ids=lambda p: p.name)
def test_each_answer_opens_with_its_paragraph(path):
    blocks = [block.strip() for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    title, opening = blocks[0], blocks[1]
    assert title.startswith("# ") and "\n" not in title, "an answer starts with its title line"
    assert not re.match(r"^(#|[*-] |\d+\. |```|\||>)", opening), (
        f"the opening block is not a paragraph: {opening[:60]!r}"
    )
    low, high = OPENING_WORDS
    words = words_read(opening)
    assert words >= low, f"the opening paragraph ({words} words) must answer the question on its own"
    assert words <= high, f"the opening paragraph has {words} words; at most {high}, the rest goes below it"


@pytest.mark.parametrize("path", ANSWER_FILES, ids=lambda p: p.name)
def test_each_answer_has_a_diagram_and_says_what_implements_it(path):
    text = path.read_text(encoding="utf-8")
    assert "```mermaid\n" in text
    assert "## In this repository" in text
    assert text.index("```mermaid") < text.index("## In this repository")
