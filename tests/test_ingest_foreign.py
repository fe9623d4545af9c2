"""The parser on procedure pages shaped like those of sites it was not written for.

The fixtures in ``fixtures/foreign`` are hand-written imitations of common site structures (see
SOURCES.txt there). Each test asserts what a reader of the page would expect of the record.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.ingest.parse import parse_page, parse_page_report
from procsearch.ingest.record import ProcedureDoc
from procsearch.ingest.sections import match_heading

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"


def parse(name: str) -> ProcedureDoc:
    return parse_page((FOREIGN / name).read_bytes(), source=name)


def indexed_text(doc: ProcedureDoc) -> str:
    """Everything that reaches the index as text: title, names, sections and other."""
    return "\n".join([doc.title, *doc.common_names, *doc.sections.values(), *doc.other.keys(), *doc.other.values()])


# name -> (title, code, code system): the code is empty for a page that carries none.
PAGES = {
    "hospital-encyclopedia-colonoscopy.html": ("Colonoscopy", "", ""),
    "national-health-service-gastroscopy.html": ("Gastroscopy", "", ""),
    "academic-center-cystoscopy.html": ("Cystoscopy", "", ""),
    "wiki-appendectomy.html": ("Appendectomy", "0DTJ4ZZ", "ICD-10-PCS"),
    "coding-reference-45378.html": ("Colonoscopy, flexible; diagnostic", "45378", "CPT"),
    "plain-clinic-vasectomy.html": ("Vasectomy", "", ""),
    "health-media-knee-arthroscopy.html": ("Knee Arthroscopy", "", ""),
    "hospital-leaflet-sigmoidoscopy.html": ("Flexible sigmoidoscopy", "", ""),
}

# Furniture every one of these pages has in some form; none of it is procedure text.
COMMON_FURNITURE = (
    "Skip to",
    "cookie",
    "Cookie",
    "Advertisement",
    "ADVERTISEMENT",
    "newsletter",
    "Subscribe",
    "Sign up",
    "Privacy",
    "All rights reserved",
    "Share this",
    "Home",
    "{",
)

# name -> furniture particular to that page.
FURNITURE = {
    "hospital-encyclopedia-colonoscopy.html": (
        "Request an appointment",
        "Get health tips in your inbox",
        "Products & Services",
        "By Lakeside Clinic Staff",
        "Share on Facebook",
        "Terms and Conditions",
    ),
    "national-health-service-gastroscopy.html": (
        "Health A to Z",
        "Back to Tests and treatments",
        "Search the health portal",
        "Page last reviewed",
        "Next review due",
        "Take part in our survey",
        "Crown copyright",
    ),
    "academic-center-cystoscopy.html": (
        "Health Library",
        "Advertising on our site helps support our mission",
        "Contents",
        "Last reviewed by",
        "Medically Reviewed",
        "American Urological Association",
        "Accessed 4/20/2023",
        "Health Essentials",
    ),
    "wiki-appendectomy.html": (
        "edit",
        "[",
        "Jump to content",
        "Random article",
        "Please donate",
        "From MedWiki, the free encyclopedia",
        "Redirected from",
        "redirects here",
        "languages",
        "View history",
        "Journal of Surgery",
        "Media related to Appendectomy",
        "Tests and procedures involving the digestive system",
        "Authority control",
        "Retrieved from",
        "Categories",
        "last edited",
        "Creative Commons",
    ),
    "coding-reference-45378.html": (
        "CodeLookup",
        "Free trial",
        "Digestive System",
        "Unlock RVUs",
        "Upgrade now",
        "Popular codes",
        "99213",
        "Coding updates, weekly",
        "registered trademark",
    ),
    "plain-clinic-vasectomy.html": (
        "Riverside Family Practice",
        "Our services",
        "Meet the team",
        "last updated",
        "Review date",
        "Back to top",
        "Print this page",
        "Website by",
    ),
    "health-media-knee-arthroscopy.html": (
        "Health Conditions",
        "Medically reviewed by",
        "Written by",
        "In this article",
        "Get our joint health newsletter",
        "How we reviewed this article",
        "orthoinfo",
        "Pinterest",
        "Read this next",
        "7 exercises for knee pain",
        "WellnessWire",
    ),
    "hospital-leaflet-sigmoidoscopy.html": (
        "Patients and visitors",
        "Excellent care, every time",
        "Published: June 2023",
        "Review date",
        "Share this page",
        "Quick links",
        "Visiting times",
        "Eastfield Road",
    ),
}

# name -> {canonical section: text that must be in it}.
SECTIONS = {
    "hospital-encyclopedia-colonoscopy.html": {
        "summary": "A colonoscopy is an exam used to look for changes in the large intestine",
        "purpose": "Screen for colon cancer.",
        "risks": "A tear in the colon or rectum wall (perforation)",
        "preparation": "clean out (empty) your colon",
        "procedure": "pumps air or carbon dioxide into the colon",
        "recovery": "It takes about an hour to begin to recover from the sedative.",
    },
    "national-health-service-gastroscopy.html": {
        "summary": "A gastroscopy is a test where a thin, flexible tube called an endoscope",
        "purpose": "difficulty swallowing",
        "preparation": "not to eat anything for 6 to 8 hours",
        "procedure": "a small plastic mouthguard will be placed between your teeth",
        "recovery": "Your throat may feel sore for a day or two.",
        "risks": "a small tear (perforation)",
    },
    "academic-center-cystoscopy.html": {
        "summary": "A urologist inserts a cystoscope through your urethra",
        "indications": "blood in your pee",
        "preparation": "give a urine sample",
        "procedure": "fills your bladder with sterile fluid",
        "duration": "5 to 15 minutes",
        "benefits": "a direct view of your bladder",
        "risks": "a urinary tract infection, bleeding and swelling",
        "recovery": "pink-tinged urine",
    },
    "wiki-appendectomy.html": {
        "summary": "is a surgical operation in which the vermiform appendix is removed",
        "purpose": "acute appendicitis, in which the appendix becomes blocked",
        "procedure": "McBurney's point",
        "recovery": "return to normal activity within one to three weeks",
        "risks": "a leak from the stump of the appendix",
    },
    "coding-reference-45378.html": {
        "summary": "advances it through the colon to the cecum",
    },
    "plain-clinic-vasectomy.html": {
        "summary": "permanent form of contraception",
        "purpose": "sure they do not want any or any more children",
        "preparation": "Shave the scrotum",
        "procedure": "Each tube is cut and the ends are sealed.",
        "recovery": "avoid heavy lifting for a week",
        "risks": "long-lasting testicular pain",
    },
    "health-media-knee-arthroscopy.html": {
        "summary": "Knee arthroscopy is a type of keyhole surgery.",
        "procedure": "fills the joint with sterile fluid",
        "recovery": "use ice packs for the first few days",
        "risks": "deep vein thrombosis",
    },
    "hospital-leaflet-sigmoidoscopy.html": {
        "summary": "an examination of the lower part of the large bowel",
        "preparation": "You will be sent an enema",
        "procedure": "the endoscope is passed gently into your back passage",
        "risks": "a very small risk of a tear in the bowel wall",
        "recovery": "You may feel bloated with wind pains",
    },
}

# name -> text under headings that name no canonical section: kept (in a section or in other).
KEPT = {
    "hospital-encyclopedia-colonoscopy.html": ("If no polyps were found, the exam is negative.",),
    "academic-center-cystoscopy.html": ("Call your provider if you cannot pee",),
    "wiki-appendectomy.html": ("performed in 1735 by Claudius Amyand",),
    "coding-reference-45378.html": ("documents findings and discusses them", "Use modifier 53"),
    "plain-clinic-vasectomy.html": ("ask reception for the current fee",),
    "health-media-knee-arthroscopy.html": (
        "Most procedures take 30 minutes to an hour",
        "Some pain and swelling is normal",
        "shorter recovery than open surgery",
    ),
    "hospital-leaflet-sigmoidoscopy.html": ("phone the Endoscopy Unit",),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_title_and_code(name: str) -> None:
    title, code, system = PAGES[name]
    doc = parse(name)
    assert doc.title == title
    if code:
        assert (doc.code, doc.code_system) == (code, system)
    else:
        # No code on the page: the id is a slug and no code system is claimed.
        assert doc.code_system == ""
        assert not doc.code.isdigit()


# Furniture that no structure marks on a single page: it is kept, under "other" (ranked low) or,
# for a disclaimer inside the lead, in the summary. On a real site it recurs on every page and is
# dropped as site boilerplate (tests/test_ingest_outline.py).
KEPT_WHEN_IN_DOUBT = {
    "academic-center-cystoscopy.html": ("Advertising on our site helps support our mission",),
}


def canonical_text(doc: ProcedureDoc) -> str:
    """What reaches the heavily weighted fields: title, names and the canonical sections."""
    return "\n".join([doc.title, *doc.common_names, *doc.sections.values()])


@pytest.mark.parametrize("name", sorted(PAGES))
def test_furniture_never_reaches_the_title_names_or_a_canonical_section(name: str) -> None:
    doc = parse(name)
    for furniture in (*COMMON_FURNITURE, *FURNITURE[name]):
        if furniture not in KEPT_WHEN_IN_DOUBT.get(name, ()):
            assert furniture not in canonical_text(doc), furniture


@pytest.mark.parametrize("name", sorted(PAGES))
def test_marked_furniture_is_dropped_with_a_reason(name: str) -> None:
    report = parse_page_report((FOREIGN / name).read_bytes(), source=name)
    text = indexed_text(report.doc)
    for furniture in ("Skip to", "Cookie", "Sign up", "Share this", "{"):
        assert furniture not in text, furniture
    assert report.dropped and all(block.reason for block in report.dropped)
    assert report.coverage.kept + sum(report.coverage.dropped.values()) == report.coverage.words


@pytest.mark.parametrize("name", sorted(PAGES))
def test_headings_map_onto_canonical_sections(name: str) -> None:
    doc = parse(name)
    for section, expected in SECTIONS[name].items():
        assert expected in doc.sections.get(section, ""), section


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_content_is_dropped(name: str) -> None:
    doc = parse(name)
    text = indexed_text(doc)
    for expected in [*SECTIONS[name].values(), *KEPT.get(name, ())]:
        assert expected in text, expected
    # A heading that names no canonical section becomes a key of ``other`` on its own; a
    # heading of a known section never does.
    assert all(match_heading(heading) in (None, "other") for heading in doc.other)


def test_hospital_encyclopedia_subheadings() -> None:
    doc = parse("hospital-encyclopedia-colonoscopy.html")
    # Sub-headings of "How you prepare" stay in that section as text.
    assert "Take a laxative" in doc.sections["preparation"]
    assert "prescription laxative" in doc.sections["preparation"]
    # "What you can expect" is only a wrapper: its During and After parts land where they belong.
    assert "What you can expect" not in doc.other
    assert "30 to 60 minutes" in doc.sections["procedure"]
    assert "pass gas" not in doc.sections["procedure"]
    # Results name no canonical section: kept under their own heading.
    assert "Results" in doc.other


def test_accordion_headings_and_collapsed_panels() -> None:
    doc = parse("academic-center-cystoscopy.html")
    # Headings written as <button>s in the accordion still structure the page.
    assert "When To Call the Doctor" in doc.other
    # "What happens after ...?" is recovery, not the procedure.
    assert "go home the same day" in doc.sections["recovery"]
    assert "go home the same day" not in doc.sections["procedure"]
    # An article id in the URL ("/17514-cystoscopy") is not a CPT code.
    assert doc.code != "17514"
    assert doc.group == ""


def test_hidden_furniture_is_dropped_but_hidden_panels_are_kept() -> None:
    html = """<html><body><main><h1>Tonsillectomy</h1>
    <div id="mobile-drawer" hidden><p>Sign in to see your saved articles and your appointment history.</p></div>
    <h2><button aria-expanded="false" aria-controls="p1">Risks</button></h2>
    <div id="p1" hidden><p>Bleeding can happen up to two weeks after the operation.</p></div>
    <h2>Recovery</h2><div class="tab-panel" role="tabpanel" aria-hidden="true"><p>Eat soft foods for a week.</p></div>
    </main></body></html>"""
    doc = parse_page(html, source="tonsillectomy.html")
    assert doc.sections["risks"] == "Bleeding can happen up to two weeks after the operation."
    assert doc.sections["recovery"] == "Eat soft foods for a week."
    assert "Sign in" not in indexed_text(doc)


def test_wiki_article_lead_infobox_and_edit_links() -> None:
    doc = parse("wiki-appendectomy.html")
    # The lead before the first heading is the summary, without citation markers.
    assert doc.sections["summary"].startswith("An appendectomy (American English)")
    assert "[1]" not in doc.sections["summary"]
    # Headings lose their [edit] links; sub-headings stay in their section.
    assert "Laparoscopic appendectomy" in doc.sections["procedure"]
    # References are kept (ranked low, as "other"); infobox rows before the first heading are "Details".
    assert list(doc.other) == ["History", "References", "Details"]
    assert "Appendicectomy" in doc.common_names
    assert doc.group == "General surgery"


def test_ids_of_other_vocabularies_are_not_procedure_codes() -> None:
    html = """<html><body><main><h1>Tonsillectomy</h1>
    <table class="infobox"><tr><th>ICD-9-CM</th><td>28.2</td></tr><tr><th>MeSH</th><td>D014068</td></tr>
    <tr><th>MedlinePlus</th><td>003013</td></tr></table>
    <p>A tonsillectomy is an operation to remove the tonsils at the back of the throat.</p>
    <h2>Recovery</h2><p>Most children recover within two weeks.</p></main></body></html>"""
    doc = parse_page(html, source="Tonsillectomy")
    assert (doc.code, doc.code_system) == ("tonsillectomy", "")
    assert doc.sections["summary"] == "A tonsillectomy is an operation to remove the tonsils at the back of the throat."


def test_coding_reference_page() -> None:
    doc = parse("coding-reference-45378.html")
    assert doc.group == "Digestive"
    # The related-codes list is kept, though its class calls it "related".
    assert [s.code for s in doc.similar_codes] == ["45380", "45385", "45381", "G0121"]
    assert doc.similar_codes[0].label == "Colonoscopy, flexible; with biopsy, single or multiple"
    assert "Coding Guidelines" in doc.other


def test_plain_page_headings() -> None:
    doc = parse("plain-clinic-vasectomy.html")
    # Headings written as div.heading, role="heading" and whole-bold paragraphs all count, in a
    # page laid out with a table; a bold heading that names no section goes to other.
    assert set(doc.sections) == {"summary", "purpose", "preparation", "procedure", "recovery", "risks"}
    assert list(doc.other) == ["Costs", "Details"]


def test_health_media_faq_details() -> None:
    doc = parse("health-media-knee-arthroscopy.html")
    assert doc.code == "knee-arthroscopy"
    # <details>/<summary> questions are headings: this one names the duration section.
    assert doc.sections["duration"].startswith("Most procedures take 30 minutes")
    assert "The bottom line" in doc.other


def test_leaflet_numbered_and_upper_case_headings() -> None:
    doc = parse("hospital-leaflet-sigmoidoscopy.html")
    assert {"summary", "indications", "preparation", "procedure", "risks", "recovery"} <= set(doc.sections)
    assert list(doc.other) == ["7. Contact us", "Details"]


@pytest.mark.parametrize(
    ("heading", "section"),
    [
        ("1. What is a flexible sigmoidoscopy?", "summary"),
        ("3. HOW DO I PREPARE FOR THE TEST?", "preparation"),
        ("iv) After the test", "recovery"),
        ("What happens on the day?", "procedure"),
        ("What happens after a cystoscopy?", "recovery"),
        ("What happens before the scan?", "preparation"),
        ("Procedure Details", "procedure"),
        ("The operation", "procedure"),
        ("Afterwards", "recovery"),
        ("Possible problems", "risks"),
        ("Risks / Benefits", "risks"),
        ("Recovery and Outlook", "recovery"),
        ("Lay Description", "summary"),
        ("What you can expect", "experience"),
        ("How we reviewed this article:", "skip"),
        ("External links", "skip"),
        ("When To Call the Doctor", "other"),
        ("Results", "other"),
    ],
)
def test_heading_conventions_of_other_sites(heading: str, section: str | None) -> None:
    assert match_heading(heading) == section


def test_aria_hidden_text_is_shown_so_it_is_kept() -> None:
    # aria-hidden hides from screen readers only: a browser shows this text.
    html = """<html><body><main><h1>Tonsillectomy</h1>
    <h2>Recovery</h2><p><span aria-hidden="true">Eat soft foods for a week.</span></p>
    <p hidden>Sign in to see your saved articles.</p></main></body></html>"""
    doc = parse_page(html, source="tonsillectomy.html")
    assert doc.sections["recovery"] == "Eat soft foods for a week."
    assert "Sign in" not in doc.other_text
