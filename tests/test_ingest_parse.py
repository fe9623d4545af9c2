from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.ingest.errors import PageSkipped
from procsearch.ingest.parse import parse_page
from procsearch.ingest.record import SimilarCode
from procsearch.ingest.sections import SECTION_NAMES
from procsearch.ingest.skips import SkipReason


def parse(fixtures: Path, name: str):  # type: ignore[no-untyped-def]
    return parse_page((fixtures / name).read_bytes(), source=name)


def test_reference_shaped_page_parses_every_section(fixtures: Path) -> None:
    doc = parse(fixtures, "seed-63685.html")
    assert doc.code == "63685"
    assert doc.code_system == "CPT"
    assert doc.title.startswith("Insertion or replacement of spinal neurostimulator pulse generator")
    assert list(doc.sections) == list(SECTION_NAMES)
    # The full name repeats the title (case aside), so only the common names remain.
    assert doc.common_names == (
        "Spinal Neurostimulator Implant",
        "SCS (Spinal Cord Stimulation) Pulse Generator Implant",
    )
    assert [s.code for s in doc.similar_codes] == ["63688", "63650", "63655", "63661", "63662", "63663", "63664"]
    assert doc.similar_codes[0] == SimilarCode(
        "63688", "Revision or removal of implanted spinal neurostimulator pulse generator or receiver"
    )
    # Sub-labels stay inside their section; list items become separate lines.
    assert doc.sections["purpose"].splitlines() == [
        "The medical condition or problem it addresses:",
        "- Chronic pain in the back, legs, or arms not relieved by other treatments.",
        "The goals or expected outcomes of the procedure:",
        "- To reduce pain and improve the quality of life for patients with chronic pain.",
        "- To decrease dependency on pain medications.",
    ]
    assert doc.sections["duration"] == "How long the procedure typically takes:\n- Approximately 1 to 2 hours."
    assert "An incision is made near the spine." in doc.sections["procedure"]
    assert len(doc.content_hash) == 64


def test_page_furniture_is_not_content(fixtures: Path) -> None:
    doc = parse(fixtures, "seed-63685.html")
    text = " ".join([doc.title, *doc.sections.values(), *doc.other.values()])
    for furniture in ("Search all medical codes", "cookies", "Privacy", "font-family", "CPT codes"):
        assert furniture not in text


def test_rendered_text_page_parses_like_the_html(fixtures: Path) -> None:
    text_doc = parse(fixtures, "procedure-page-63685.txt")
    html_doc = parse(fixtures, "seed-63685.html")
    assert text_doc.code == "63685" and text_doc.code_system == "CPT"
    assert text_doc.title == html_doc.title
    assert dict(text_doc.sections) == dict(html_doc.sections)
    assert text_doc.common_names == html_doc.common_names


def test_heading_variants_bold_headings_definition_lists_and_other(fixtures: Path) -> None:
    doc = parse(fixtures, "variants-47562.html")
    assert (doc.code, doc.code_system, doc.title) == ("47562", "CPT", "Laparoscopic Gallbladder Removal")
    assert set(doc.sections) == {"summary", "purpose", "procedure", "duration", "setting", "risks", "recovery"}
    assert doc.sections["risks"] == "- Bile leak\n- Injury to the bile duct"
    assert doc.sections["duration"] == "About 1 to 2 hours."
    # A nested list item and an unknown sub-heading stay inside the section.
    assert "- A camera port goes in at the navel." in doc.sections["procedure"]
    assert "Instruments" in doc.sections["procedure"]
    # A heading that matches nothing is kept, never dropped.
    assert doc.other == {"Cost and insurance": "Usually covered when gallstones cause symptoms."}
    assert doc.common_names == (
        "Laparoscopic cholecystectomy",
        "lap chole",
        "keyhole gallbladder surgery",
        "gallbladder removal",
    )
    assert [s.code for s in doc.similar_codes] == ["47563", "47600"]
    assert doc.similar_codes[1].label == "Open cholecystectomy"
    assert "Advertisement" not in " ".join(doc.sections.values())


def test_page_with_missing_sections(fixtures: Path) -> None:
    doc = parse(fixtures, "missing-sections-99213.html")
    assert (doc.code, doc.code_system) == ("99213", "CPT")
    assert list(doc.sections) == ["summary", "preparation", "experience"]
    assert doc.similar_codes == ()


def test_page_with_no_title_and_no_content_is_skipped_with_reason(fixtures: Path) -> None:
    with pytest.raises(PageSkipped) as info:
        parse(fixtures, "no-title.html")
    assert info.value.reason == SkipReason.NO_TITLE_OR_CONTENT
    assert info.value.source == "no-title.html"


def test_page_without_code_gets_id_from_canonical_url(fixtures: Path) -> None:
    doc = parse(fixtures, "no-code.html")
    assert doc.code == "ear-wax-removal"
    assert doc.code_system == ""
    assert doc.common_names == ("cerumen removal", "ear irrigation")
    assert set(doc.sections) == {"summary", "procedure", "risks"}


def test_code_from_file_name_when_page_has_none() -> None:
    html = "<html><body><h1>Knee arthroscopy</h1><h2>Summary</h2><p>A camera looks inside the knee.</p></body></html>"
    doc = parse_page(html, source="pages/cpt-29881.html")
    assert (doc.code, doc.code_system) == ("29881", "CPT")
    assert parse_page(html, source="pages/knee-scope.html").code == "knee-scope"


@pytest.mark.parametrize(
    ("label", "code", "system"),
    [
        ("CPT4 code", "63685", "CPT"),
        ("HCPCS Level II code:", "G0121", "HCPCS"),
        ("ICD-10-PCS code", "0DTJ4ZZ", "ICD-10-PCS"),
        ("Code", "E0601", "HCPCS"),
    ],
)
def test_code_system_from_label_or_shape(label: str, code: str, system: str) -> None:
    html = f"<h1>Some procedure</h1><p>{label} {code}</p><h2>Summary</h2><p>Text.</p>"
    doc = parse_page(html, source="x.html")
    assert (doc.code, doc.code_system) == (code, system)


MEDLINEPLUS = {
    "laparoscopy.html": ("Laparoscopy", ("diagnostic laparoscopy", "laparoscopic surgery")),
    "complete-blood-count-cbc.html": ("Complete Blood Count (CBC)", ("CBC", "full blood count", "blood cell count")),
    "breast-biopsy.html": (
        "Breast Biopsy",
        ("core needle biopsy", "core biopsy, breast", "fine-needle aspiration", "open surgery biopsy"),
    ),
    "bone-density-scan.html": (
        "Bone Density Scan",
        ("bone mineral density test", "BMD test", "DEXA scan", "DXA", "Dual-energy x-ray absorptiometry"),
    ),
}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).parent / "fixtures/medlineplus").glob("*.html"))
)
def test_medlineplus_pages_parse_into_sections(fixtures: Path, name: str) -> None:
    doc = parse(fixtures / "medlineplus", name)
    assert doc.code == name.removesuffix(".html") and doc.code_system == ""
    # Question-style headings map onto the canonical sections.
    assert {"summary", "purpose", "indications", "procedure", "preparation", "risks"} <= set(doc.sections)
    assert "What do the results mean?" in doc.other
    everything = " ".join([*doc.sections.values(), *doc.other.values()])
    for furniture in (
        "Health Topics",
        "Drugs & Supplements",
        "References",
        "Related Health Topics",
        "URL of this page",
        "Customer Support",
        "enable JavaScript",
    ):
        assert furniture not in everything, furniture
    if name in MEDLINEPLUS:
        title, names = MEDLINEPLUS[name]
        assert doc.title == title
        assert doc.common_names == names


def test_medlineplus_question_headings_land_in_the_right_sections(fixtures: Path) -> None:
    doc = parse(fixtures / "medlineplus", "laparoscopy.html")
    assert doc.sections["summary"].startswith("A laparoscopy is a type of surgery")
    assert "Tumors and other growths" in doc.sections["purpose"]
    assert "chronic pain in your abdomen" in doc.sections["indications"]
    assert "laparoscope, a thin tube with a camera" in doc.sections["procedure"]
    assert "fast (not eat or drink)" in doc.sections["preparation"]
    assert "bleeding at the incision site" in doc.sections["risks"]


def _page(body: str) -> str:
    return f"<html><head><title>Knee Arthroscopy</title></head><body><h1>Knee Arthroscopy</h1>{body}</body></html>"


def test_a_bold_line_inside_a_section_is_emphasis_but_a_bold_known_heading_starts_one() -> None:
    doc = parse_page(
        _page(
            "<p><strong>Recovery</strong></p><p>Rest the knee for a few days.</p>"
            "<p><strong>Do not drive for 24 hours</strong></p><p>Someone should take you home.</p>"
            "<p><strong>Results</strong></p><p>The surgeon explains the findings at the follow-up visit.</p>"
        ),
        source="knee.html",
    )
    assert "Do not drive for 24 hours" in doc.sections["recovery"]
    assert "Someone should take you home." in doc.sections["recovery"]
    assert doc.other == {"Results": "The surgeon explains the findings at the follow-up visit."}


def test_label_lines_after_the_lead_still_give_the_code_and_group() -> None:
    doc = parse_page(
        _page(
            "<p>Knee arthroscopy lets a surgeon look inside the knee joint through small cuts and repair it.</p>"
            "<p>CPT code: 29881</p><p>Category: Musculoskeletal</p>"
            "<h2>Risks</h2><p>Infection and blood clots are uncommon.</p>"
        ),
        source="knee.html",
    )
    assert (doc.code, doc.code_system) == ("29881", "CPT")
    assert doc.sections["summary"].startswith("Knee arthroscopy lets a surgeon")
    assert "CPT code" not in doc.sections["summary"]


def test_an_accordion_trigger_button_heads_its_panel() -> None:
    doc = parse_page(
        _page(
            "<h2>Overview</h2><p>Knee arthroscopy looks inside the knee with a small camera.</p>"
            '<button aria-expanded="false" aria-controls="p1">Risks</button>'
            '<div id="p1" hidden><p>Infection and blood clots are uncommon.</p></div>'
        ),
        source="knee.html",
    )
    assert doc.sections["risks"] == "Infection and blood clots are uncommon."
    assert "Infection" not in doc.sections["summary"]


def test_a_markdown_scrape_keeps_its_marked_headings_and_title() -> None:
    text = (
        "# Knee Arthroscopy\n\nKnee arthroscopy is keyhole surgery on the knee joint.\n\n"
        "## Risks\nInfection and bleeding are rare.\n\n## History of the method\nFirst done in 1912.\n"
    )
    doc = parse_page(text, source="knee-arthroscopy.md")
    assert doc.title == "Knee Arthroscopy"
    assert doc.sections["summary"] == "Knee arthroscopy is keyhole surgery on the knee joint."
    assert doc.sections["risks"] == "Infection and bleeding are rare."
    assert doc.other["History of the method"] == "First done in 1912."


def test_a_page_saved_before_its_scripts_rendered_it_is_skipped_saying_so() -> None:
    from procsearch.ingest.errors import PageSkipped

    data = '{"props": {"article": {"body": "' + "Knee arthroscopy is keyhole surgery on the knee joint. " * 8 + '"}}}'
    html = (
        "<html><head><title>Knee Arthroscopy | HealthSite</title></head><body><div id='__next'></div>"
        f"<script id='__NEXT_DATA__' type='application/json'>{data}</script></body></html>"
    )
    with pytest.raises(PageSkipped) as skipped:
        parse_page(html, source="knee.html")
    assert skipped.value.reason == "no recognisable content"
    assert "script data" in skipped.value.detail and "once it has rendered" in skipped.value.detail
