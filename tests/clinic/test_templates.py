"""The templates' structure: base.html → <app>/_base.html → the page, stylesheets in the head."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

TEMPLATES = Path(settings.BASE_DIR) / "templates"
APPS = ("clinic", "consultations", "treatments", "aftercare", "photos", "online", "reports")
EXTENDS = re.compile(r'{%\s*extends\s+"([^"]+)"\s*%}')
EXTRA_HEAD = re.compile(r"{%\s*block\s+extra_head\s*%}.*?{%\s*endblock(?:\s+extra_head)?\s*%}", re.DOTALL)


def pages(app: str) -> list[Path]:
    return sorted(p for p in (TEMPLATES / app).glob("*.html") if not p.name.startswith("_"))


@pytest.mark.parametrize("app", APPS)
def test_every_page_of_an_app_extends_its_section_base_or_its_public_base(app: str) -> None:
    found = {page.name: EXTENDS.match(page.read_text()) for page in pages(app)}
    assert found, f"no pages found for {app}"
    allowed = {f"{app}/_base.html", f"{app}/_public_base.html"}
    wrong = {name: m.group(1) if m else None for name, m in found.items() if not m or m.group(1) not in allowed}
    assert wrong == {}


@pytest.mark.parametrize("app", APPS)
def test_each_section_base_extends_base_and_has_an_extra_head_block(app: str) -> None:
    text = (TEMPLATES / app / "_base.html").read_text()
    match = EXTENDS.match(text)
    assert match is not None
    assert match.group(1) == "base.html"
    assert "{% block extra_head %}" in text


def test_base_html_offers_an_extra_head_block_inside_head() -> None:
    text = (TEMPLATES / "base.html").read_text()
    head = text[text.index("<head>") : text.index("</head>")]
    assert "{% block extra_head %}" in head


def test_no_template_links_a_stylesheet_outside_the_head() -> None:
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        if path.name == "base.html":
            text = text[text.index("</head>") :]
        # A stylesheet may appear only inside an extra_head block, which base.html puts in <head>.
        text = EXTRA_HEAD.sub("", text)
        if re.search(r"rel=\"?stylesheet", text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []


def test_the_form_actions_partial_renders_cancel_draft_and_a_confirmed_primary_in_that_order() -> None:
    with translation.override("en"):
        html = render_to_string(
            "_partials/form_actions.html",
            {
                "primary": "Sign session",
                "primary_icon": "pen",
                "primary_name": "action",
                "primary_value": "sign",
                "confirm": "Sign this session?",
                "draft": "Save draft",
                "draft_name": "action",
                "draft_value": "save",
                "cancel_url": "/back/",
            },
        )
    cancel, draft, primary = html.index('href="/back/"'), html.index("Save draft"), html.index("Sign session")
    assert cancel < draft < primary
    assert 'name="action" value="save"' in html
    assert 'name="action" value="sign"' in html
    assert 'data-confirm="Sign this session?"' in html
    assert "bi-pen" in html
    assert ">Cancel</a>" in html


def test_the_form_actions_partial_shows_only_the_primary_button_when_given_only_its_label() -> None:
    html = render_to_string("_partials/form_actions.html", {"primary": "Save plan"})
    assert html.count("<button") == 1
    assert "<a " not in html
    assert "data-confirm" not in html
    assert "name=" not in html
