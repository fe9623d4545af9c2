"""Headings and furniture recognised by what they do, on imitations of common markup families.

The fixtures in ``fixtures/markup`` imitate markup none of the real pages have: a Drupal-style
CMS (``field__label`` + ``field__item``, content wrappers whose BEM class names contain "nav"),
AEM components with Bootstrap and ``details`` accordions, and a site with no heading tags at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.ingest.coverage import ParseReport
from procsearch.ingest.pages import load_pages
from procsearch.ingest.parse import parse_page, parse_page_report
from procsearch.ingest.skips import SkipReason

MARKUP = Path(__file__).parent / "fixtures" / "markup"


def report(name: str) -> ParseReport:
    return parse_page_report((MARKUP / name).read_bytes(), source=name)


def test_cms_field_labels_give_sections_and_names_though_wrappers_say_nav() -> None:
    parsed = report("drupal-field-labels-a1c.html")
    doc = parsed.doc
    assert (doc.code, doc.title) == ("hemoglobin-a1c", "Hemoglobin A1c")
    assert doc.common_names == ("A1c", "HbA1c", "Glycohemoglobin", "Glycated Hemoglobin")
    assert doc.sections["purpose"].startswith("To monitor blood sugar control")
    assert doc.sections["indications"].startswith("When you are diagnosed with diabetes")
    assert doc.sections["preparation"].startswith("None. You do not need to fast")
    assert doc.sections["summary"].startswith("Hemoglobin A1c measures the share")
    assert "An A1c below 5.7 percent is normal" in doc.other["What does the test result mean?"]
    # Every content block sits in a "...section-nav-test" wrapper: none of it is navigation.
    assert "navigation" not in {block.reason for block in parsed.dropped if block.words > 4}
    assert parsed.coverage.share > 0.9
    hows = {origin.heading: origin.how for origin in parsed.origins}
    assert hows["Also Known As"] == "label class field__label"


def test_aem_titles_bootstrap_and_details_accordions_role_heading_and_lead_ins() -> None:
    doc = report("aem-bootstrap-accordion-egd.html").doc
    assert doc.title == "Upper Endoscopy (EGD)"
    assert doc.common_names == ("EGD", "upper GI endoscopy", "gastroscopy")
    assert doc.sections["summary"].startswith("An upper endoscopy, or esophagogastroduodenoscopy")
    assert doc.sections["purpose"].startswith("To find the cause of heartburn")
    assert doc.sections["preparation"].startswith("Do not eat or drink")  # Bootstrap 5 accordion
    assert doc.sections["procedure"].startswith("You lie on your left side")  # Bootstrap 4 card, collapsed panel
    assert doc.sections["risks"].startswith("Risks are rare")  # <details>/<summary>
    assert "Going home" in doc.sections["recovery"]  # role=heading, then a bold lead-in
    assert doc.sections["duration"] == "About 15 to 30 minutes."  # <dt> question


def test_styled_paragraphs_are_headings_on_a_site_without_heading_tags() -> None:
    parsed = report("styled-paragraphs-brachytherapy.html")
    doc = parsed.doc
    assert doc.title == "Brachytherapy"
    assert doc.sections["summary"].startswith("Brachytherapy is a form of radiation therapy")
    # A question heading that adds words to its section's text opens that text, as on the page.
    assert doc.sections["risks"].startswith("What side effects can it cause?\nSide effects depend on the area treated")
    assert doc.sections["recovery"].startswith("Most people go home the same day")
    # A style used once ("Permanent seed implants", p.t8) is not a heading style: it stays as text.
    assert "Permanent seed implants" in doc.other["How is the implant placed?"]
    assert {block.reason for block in parsed.dropped} == {"navigation"}


def test_bold_lines_are_headings_only_when_they_name_one() -> None:
    doc = parse_page(
        "<html><body><p><b>Recovery</b></p><p>Rest for a day or two after the procedure, then walk a little.</p>"
        "<p><b>Do not drive for a day</b></p><p>Someone should take you home after the sedation.</p></body></html>",
        source="x.html",
    )
    assert "Do not drive for a day" in doc.sections["recovery"]


def test_a_class_word_is_matched_whole_never_as_part_of_a_longer_name() -> None:
    html = (
        "<html><body><main><h1>Spinal tap</h1>"
        '<div class="paragraph--view-mode--section-nav-test"><h2>Why it is done</h2>'
        "<p>To look for infection or bleeding around the brain and spinal cord.</p></div>"
        '<div class="navbar"><a href="/a">A</a> <a href="/b">B</a> <a href="/c">C</a></div>'
        "</main></body></html>"
    )
    parsed = parse_page_report(html, source="spinal-tap.html")
    assert parsed.doc.sections["purpose"].startswith("To look for infection")
    assert [(block.reason, block.text) for block in parsed.dropped] == [("navigation", "A B C")]


def test_a_heading_of_numbers_labels_nothing_and_prose_ends_a_contents_list() -> None:
    html = (
        "<html><body><h1>Ultrasound</h1><h1>1</h1>"
        "<p>An ultrasound uses sound waves to make pictures of the inside of the body.[2] 3</p>"
        "<h2>On this page</h2><ul><li><a href='#a'>Uses</a></li><li><a href='#b'>Risks</a></li></ul>"
        "<p>Ultrasound is safe in pregnancy and uses no radiation at all, unlike an x-ray.</p>"
        "<h2>Risks</h2><p>There are no known risks.</p></body></html>"
    )
    doc = parse_page(html, source="ultrasound.html")
    assert doc.sections["summary"].startswith("An ultrasound uses sound waves")
    assert "Ultrasound is safe in pregnancy" in doc.sections["summary"]
    assert doc.sections["risks"] == "There are no known risks."
    assert "1" not in doc.other


def write_site(folder: Path, pages: dict[str, str], *, promo: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in pages.items():
        (folder / f"{name}.html").write_text(
            f"<html><head><title>{name}</title><link rel='canonical' href='https://clinic.example/{name}'></head>"
            f"<body><main><h1>{name.title()}</h1><p>{body}</p><div class='box'><h3>Join our program</h3>"
            f"<p>{promo}</p></div><h2>Risks</h2><p>{promo}</p></main></body></html>",
            encoding="utf-8",
        )


PROMO = "Get ten percent off your first visit when you book online this month."
BODIES = {
    "colonoscopy": "A colonoscopy looks at the lining of the large intestine with a flexible camera tube.",
    "gastroscopy": "A gastroscopy looks at the food pipe, stomach and duodenum with a thin camera tube.",
    "cystoscopy": "A cystoscopy looks at the inside of the bladder and the urethra with a thin camera.",
    "bronchoscopy": "A bronchoscopy looks at the airways and lungs through a thin tube passed through the nose.",
    "sigmoidoscopy": "A sigmoidoscopy looks at the rectum and lower colon with a short flexible camera tube.",
}


def test_a_block_on_most_pages_of_a_site_is_site_boilerplate(tmp_path: Path) -> None:
    write_site(tmp_path / "site", BODIES, promo=PROMO)
    batch = load_pages(tmp_path / "site")
    assert len(batch.docs) == 5 and batch.boilerplate
    for doc in batch.docs:
        report_ = batch.reports[doc.source]
        assert "Join our program" not in doc.other  # the promotion and its heading are furniture
        dropped = {(block.reason, block.text.removesuffix(" ...")) for block in report_.dropped}
        assert ("site boilerplate", " ".join(PROMO.split()[:12])) in dropped
        # The same words under a canonical heading are the page's own text, never boilerplate.
        assert doc.sections["risks"] == PROMO
        assert doc.sections["summary"] == BODIES[doc.code]


def test_a_block_on_only_a_few_pages_is_the_pages_own_text(tmp_path: Path) -> None:
    write_site(tmp_path / "site", dict(list(BODIES.items())[:3]), promo=PROMO)
    batch = load_pages(tmp_path / "site")
    assert not batch.boilerplate
    assert all(PROMO in doc.other["Join our program"] for doc in batch.docs)


def test_pages_with_the_same_generic_last_path_part_get_different_ids(tmp_path: Path) -> None:
    def page(url: str, title: str, body: str) -> str:
        return (
            f"<html><head><link rel='canonical' href='{url}'><title>{title}</title></head>"
            f"<body><main><h1>{title}</h1><p>{body}</p></main></body></html>"
        )

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    base = "https://www.health.example/conditions"
    (tmp_path / "a" / "Introduction.aspx").write_text(
        page(
            f"{base}/Labial-fusion/Pages/Introduction.aspx",
            "Labial fusion",
            "The inner lips of the vulva join together.",
        )
    )
    (tmp_path / "b" / "Introduction.aspx").write_text(
        page(
            f"{base}/Aortic-aneurysm/Pages/Introduction.aspx",
            "Aortic aneurysm",
            "A bulge in the aorta, the main blood vessel.",
        )
    )
    (tmp_path / "c" / "saved-copy.html").write_text(
        page(
            f"{base}/Aortic-aneurysm/Pages/Introduction.aspx",
            "Aortic aneurysm",
            "A bulge in the aorta, the main blood vessel.",
        )
    )
    (tmp_path / "a" / "colonoscopy.html").write_text(page("", "Colonoscopy", "An exam of the large intestine."))
    (tmp_path / "b" / "colonoscopy.html").write_text(page("", "Colonoscopy", "A look at the colon and rectum."))
    batch = load_pages(tmp_path)
    assert sorted((doc.code, doc.source) for doc in batch.docs) == [
        ("a-colonoscopy", "a/colonoscopy.html"),
        ("aortic-aneurysm-introduction", "b/Introduction.aspx"),
        ("b-colonoscopy", "b/colonoscopy.html"),
        ("labial-fusion-introduction", "a/Introduction.aspx"),
    ]
    # Only the same canonical URL makes two files one page; the report says which is kept.
    assert [(s.source, s.reason, s.detail) for s in batch.skipped] == [
        ("c/saved-copy.html", SkipReason.DUPLICATE_PAGE, "the same canonical URL as b/Introduction.aspx, which is kept")
    ]


def test_a_code_label_with_a_label_class_gives_the_code_and_heads_nothing() -> None:
    doc = parse_page(
        '<html><head><title>x</title></head><body><h1>Knee arthroscopy</h1><p class="code-label">CPT code '
        "<strong>29881</strong></p><h2>Summary</h2><p>A camera looks inside the knee.</p></body></html>",
        source="knee.html",
    )
    assert (doc.code, doc.code_system) == ("29881", "CPT")
    assert doc.sections == {"summary": "A camera looks inside the knee."}


# --- found by review: each of these lost text or split a section --------------------------------


def test_a_button_inside_a_section_drops_only_the_button() -> None:
    parsed = parse_page_report(
        "<html><body><h1>Knee scope</h1><section><h2>Risks</h2><p>Bleeding and infection are rare after a "
        "knee scope.</p><button>Show more</button><input type='hidden' value='x'></section></body></html>",
        source="knee.html",
    )
    assert parsed.doc.sections["risks"] == "Bleeding and infection are rare after a knee scope."
    assert [(block.reason, block.text) for block in parsed.dropped] == [("form or search box", "Show more")]


def test_a_form_wrapping_a_short_page_is_the_page() -> None:
    doc = parse_page(
        "<html><body><form id='aspnetForm'><h1>Ear tubes</h1><p>Tiny tubes are placed in the eardrums to "
        "drain fluid.</p></form></body></html>",
        source="ear-tubes.html",
    )
    assert doc.sections["summary"] == "Tiny tubes are placed in the eardrums to drain fluid."


def test_text_in_a_table_row_outside_its_cells_and_after_the_body_is_kept() -> None:
    parsed = parse_page_report(
        "<html><body><h1>Biopsy</h1><table><tr><div>Bleeding is the main risk of a biopsy.</div></tr></table>"
        "</body></html><p>Written by the biopsy team of the clinic.</p>",
        source="biopsy.html",
    )
    text = "\n".join(parsed.doc.sections.values())
    assert "Bleeding is the main risk of a biopsy." in text
    assert "Written by the biopsy team of the clinic." in text
    assert parsed.coverage.kept == parsed.coverage.words


def test_a_list_of_similar_code_links_is_not_a_menu() -> None:
    doc = parse_page(
        "<html><body><h1>Knee arthroscopy</h1><p>CPT code 29881</p><h2>Similar codes</h2><ul>"
        "<li><a href='/29880'>29880 Knee arthroscopy both menisci</a></li><li><a href='/29882'>29882</a></li>"
        "<li><a href='/29883'>29883</a></li><li><a href='/29884'>29884</a></li></ul></body></html>",
        source="knee.html",
    )
    assert [similar.code for similar in doc.similar_codes] == ["29880", "29882", "29883", "29884"]


def test_emphasis_is_no_heading_and_does_not_split_a_section() -> None:
    doc = parse_page(
        "<html><body><h1>Knee replacement</h1><h2>Risks</h2><p>Blood clots can form in the leg.</p>"
        "<p><b>Recovery of function may be slow</b></p><p>Some people take a year to walk without pain.</p>"
        "<h2>Recovery</h2><p><strong>Risks of not resting:</strong> swelling and stiffness.</p>"
        "<h3>At home</h3><div class='card-header'>Serious but uncommon problems</div><p>Call if the wound "
        "leaks.</p></body></html>",
        source="knee-replacement.html",
    )
    assert "Some people take a year to walk without pain." in doc.sections["risks"]
    assert "Risks of not resting: swelling and stiffness." in doc.sections["recovery"]
    assert "Call if the wound leaks." in doc.sections["recovery"]


def test_a_page_with_nothing_but_site_boilerplate_is_skipped_and_the_run_goes_on(tmp_path: Path) -> None:
    write_site(tmp_path / "site", BODIES, promo=PROMO)
    (tmp_path / "site" / "stub.html").write_text(
        f"<html><head><link rel='canonical' href='https://clinic.example/stub'></head><body><h1>Stub</h1>"
        f"<div class='box'><h3>Join our program</h3><p>{PROMO}</p></div></body></html>"
    )
    batch = load_pages(tmp_path / "site")
    assert len(batch.docs) == 5
    assert [(skip.source, skip.reason) for skip in batch.skipped] == [("stub.html", SkipReason.NO_CONTENT)]


def test_paths_that_slug_alike_still_get_different_ids(tmp_path: Path) -> None:
    page = "<html><body><h1>Knee</h1><p>{}</p></body></html>"
    (tmp_path / "knee").mkdir()
    (tmp_path / "knee.html").write_text(page.format("The knee joint and its care."))
    (tmp_path / "knee" / "index.html").write_text(page.format("All about knee surgery."))
    batch = load_pages(tmp_path)
    ids = sorted(doc.code for doc in batch.docs)
    assert len(ids) == 2 and len(set(ids)) == 2 and not batch.skipped
    assert all(code.startswith("knee") for code in ids)


def test_deeply_nested_superscripts_parse() -> None:
    doc = parse_page("<html><body><h1>T</h1><p>" + "<sup>" * 3000 + "x" + "</sup>" * 3000 + "</p></body></html>")
    assert doc.title == "T"


def test_coverage_counts_the_words_cut_from_a_title() -> None:
    parsed = parse_page_report(
        "<html><body><h1>Cystoscopy: What It Is, Purpose &amp; Recovery</h1><p>A camera looks at the bladder.</p>"
        "</body></html>",
        source="cystoscopy.html",
    )
    assert parsed.doc.title == "Cystoscopy"
    assert parsed.coverage.kept == parsed.coverage.words == 12


def test_inline_markup_inside_a_word_keeps_the_word_whole() -> None:
    doc = parse_page(
        "<html><body><h1>Hys<b>ter</b>ectomy</h1><p><span class='dropcap'>A</span> hysterectomy removes the "
        "uterus; CO<sub>2</sub> fills the belly for the <a href='/g/laparoscope'>laparoscope</a>s.<br>Most go "
        "home in a day.</p><ul><li>One</li><li>Two</li></ul></body></html>",
        source="hysterectomy.html",
    )
    assert doc.title == "Hysterectomy"
    assert "CO2 fills the belly for the laparoscopes." in doc.sections["summary"]
    assert "Most go home in a day." in doc.sections["summary"]


SECTION_TEXTS = {
    "summary": "Knee arthroscopy is keyhole surgery on the knee joint using a camera.",
    "risks": "Infection, bleeding and blood clots are rare complications of the operation.",
    "recovery": "Most people walk the same day and return to work in a week or two.",
}


@pytest.mark.parametrize(
    "layout",
    [
        # page builders that style a span instead of marking a heading
        '<p><span style="font-size:20px;font-weight:700">{heading}</span></p><p>{text}</p>',
        # a word processor's export: one block, lines between <br>s
        "<div>{heading}<br>{text}</div>",
        # upper-case label paragraphs
        "<p>{heading_upper}</p><p>{text}</p>",
        # a table of header cells and values
        "<table><tr><th>{heading}</th><td>{text}</td></tr></table>",
    ],
    ids=["styled-span", "br-lines", "upper-case", "th-cells"],
)
def test_a_line_that_is_exactly_a_section_name_heads_its_text_whatever_the_markup(layout: str) -> None:
    headings = {"summary": "Overview", "risks": "Risks and Complications", "recovery": "Recovery"}
    body = "".join(
        layout.format(heading=headings[name], heading_upper=headings[name].upper(), text=text)
        for name, text in SECTION_TEXTS.items()
    )
    doc = parse_page(f"<html><head><title>Knee Arthroscopy</title></head><body>{body}</body></html>", source="k.html")
    assert dict(doc.sections) == SECTION_TEXTS
    assert not doc.other


def test_section_names_that_head_no_text_stay_text() -> None:
    # A row of tab labels, and a label at the end of the page, head nothing.
    html = "<html><body><h1>Knee Arthroscopy</h1><p>Overview</p><p>Risks</p><p>Recovery</p></body></html>"
    doc = parse_page(html, source="k.html")
    assert not doc.sections and doc.other["Details"] == "Overview\nRisks\nRecovery"


def test_a_site_logo_h1_is_not_the_title() -> None:
    html = """<html><head><title>Knee Arthroscopy | HealthSite</title></head><body>
    <header><h1 class="logo"><a href="https://healthsite.example/">HealthSite</a></h1></header>
    <div id="content"><h2>Knee Arthroscopy</h2><p>Knee arthroscopy is keyhole surgery on the knee joint.</p>
    <h3>Risks</h3><p>Infection and bleeding are rare.</p></div></body></html>"""
    report = parse_page_report(html, source="knee.html")
    assert report.doc.title == "Knee Arthroscopy"
    assert report.doc.sections == {
        "summary": "Knee arthroscopy is keyhole surgery on the knee joint.",
        "risks": "Infection and bleeding are rare.",
    }
    assert report.coverage.dropped == {"header landmark": 1}


def test_a_question_button_opens_the_hidden_answer_after_it() -> None:
    # A disclosure control that names no panel (no aria-controls) opens the hidden element after it.
    html = """<html><body><h1>Knee Arthroscopy</h1><p>Knee arthroscopy is keyhole surgery on the knee joint.</p>
    <div class="faq"><button aria-expanded="false">What are the risks?</button>
    <div hidden><p>Infection and bleeding are rare.</p></div></div></body></html>"""
    report = parse_page_report(html, source="knee.html")
    assert report.doc.sections["risks"] == "Infection and bleeding are rare."
    assert report.coverage.share == 1.0
