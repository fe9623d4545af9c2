"""The parser on real pages of sites it was not written for.

Public-domain (MedlinePlus, CDC) and CC BY-SA (Wikipedia) pages live in ``fixtures/`` with their
source notes. All-rights-reserved pages are read from ``../shared/foreign-pages`` and the tests
that need them skip when it is absent. Every page has an expectation: title, id, common names,
which sections, their first words, and a floor under its coverage (the share of the page's
visible words that reached the record).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from procsearch.ingest.coverage import STRONG_REASONS
from procsearch.ingest.parse import parse_page_report

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "foreign-pages"

MEDLINEPLUS_SECTIONS = ("summary", "purpose", "indications", "preparation", "procedure", "risks")

PAGES: dict[str, dict[str, Any]] = {
    "real/cdc.gov-2010/h1n1-vaccine-safety-qa.html": dict(
        title="General Questions and Answers on 2009 H1N1 Influenza Vaccine Safety",
        id="h1n1-vaccine-safety-qa",
        names=[],
        sections={
            "summary": "What is the best source of information for 2009 H1N1 influenza vaccine safety? In addition to talking openly with your healthcare",
            "risks": "The 2009 H1N1 influenza vaccine is showing a",
        },
        other=[
            "Are there some people who should not receive this vaccine?",
            "Do the 2009 H1N1 vaccines contain adjuvants?",
        ],
        coverage=0.75,
    ),
    "real/cdc.gov-2010/vaccine-side-effects.html": dict(
        title="Vaccines: Vac-Gen/Side Effects",
        id="vaccine-side-effects",
        names=[],
        sections={"risks": "Any vaccine can cause side effects. For the"},
        other=["What if there is a moderate or severe reaction?"],
        coverage=0.9,
    ),
    "real/en.wikipedia.org/magnetic-resonance-imaging.html": dict(
        title="Magnetic resonance imaging",
        id="magnetic-resonance-imaging",
        names=["nuclear magnetic resonance imaging (NMRI)", "magnetic resonance tomography (MRT)"],
        # The lead paragraphs open the summary (they were dropped once).
        sections={
            "summary": "Magnetic resonance imaging (MRI) is a medical",
            "risks": "MRI is in general a safe technique, although",
        },
        other=["Mechanism", "Diagnostics", "Economics", "History"],
        coverage=0.9,
    ),
    "real/en.wikipedia.org/medical-imaging.html": dict(
        title="Medical imaging",
        id="medical-imaging",
        names=[],
        sections={"summary": "Medical imaging is the technique and process of"},
        other=["Imaging modalities", "In pregnancy", "Archiving and recording", "Privacy protection"],
        coverage=0.9,
    ),
    "medlineplus/bone-density-scan.html": dict(
        title="Bone Density Scan",
        id="bone-density-scan",
        names=["bone mineral density test", "BMD test", "DEXA scan", "DXA", "Dual-energy x-ray absorptiometry"],
        sections={
            "summary": "A bone density scan, also known as a",
            "risks": "A bone density scan uses very low doses",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/breast-biopsy.html": dict(
        title="Breast Biopsy",
        id="breast-biopsy",
        names=["core needle biopsy", "core biopsy, breast", "fine-needle aspiration", "open surgery biopsy"],
        sections={
            "summary": "A breast biopsy is a procedure that removes",
            "preparation": "Will I need to do anything to prepare for the test? You won't need any special preparations if you",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/bronchoscopy-and-bronchoalveolar-lavage-bal.html": dict(
        title="Bronchoscopy and Bronchoalveolar Lavage (BAL)",
        id="bronchoscopy-and-bronchoalveolar-lavage-bal",
        names=["flexible bronchoscopy", "bronchoalveolar washing"],
        sections={
            "purpose": "Bronchoscopy may be used to: - Find and",
            "procedure": "Bronchoscopy and BAL are often done by a",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/colposcopy.html": dict(
        title="Colposcopy",
        id="colposcopy",
        names=["colposcopy with directed biopsy"],
        sections={
            "indications": "You may need this test if you had",
            "preparation": "Will I need to do anything to prepare for the test? Do not douche, use tampons or vaginal medicines,",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/complete-blood-count-cbc.html": dict(
        title="Complete Blood Count (CBC)",
        id="complete-blood-count-cbc",
        names=["CBC", "full blood count", "blood cell count"],
        sections={
            "summary": "A complete blood count or CBC is a",
            "procedure": "A health care professional will take a blood",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/hysteroscopy.html": dict(
        title="Hysteroscopy",
        id="hysteroscopy",
        names=["hysteroscopic surgery", "diagnostic hysteroscopy", "operative hysteroscopy"],
        sections={
            "purpose": "A hysteroscopy is most often used to: -",
            "risks": "A hysteroscopy is a very safe procedure. You",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/laparoscopy.html": dict(
        title="Laparoscopy",
        id="laparoscopy",
        names=["diagnostic laparoscopy", "laparoscopic surgery"],
        sections={
            "summary": "A laparoscopy is a type of surgery that",
            "indications": "You may need a laparoscopy if you: -",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
    "medlineplus/stress-tests.html": dict(
        title="Stress Tests",
        id="stress-tests",
        names=[
            "exercise stress test",
            "treadmill test",
            "stress EKG",
            "stress ECG",
            "nuclear stress test",
            "stress echocardiogram",
        ],
        sections={
            "summary": "Stress tests show how well your heart handles",
            "procedure": "There are three main types of stress tests:",
        },
        other=["What do the results mean?", "References"],
        coverage=0.85,
    ),
}

# All rights reserved: read from ../shared. (title, id, canonical sections that must be found, coverage floor)
SHARED_PAGES: dict[str, tuple[str, str, tuple[str, ...], float]] = {
    "cancer.org-2009/hyperthermia.html": ("Hyperthermia", "hyperthermia", ("summary", "risks"), 0.95),
    "cancer.org-2009/photodynamic-therapy.html": (
        "Photodynamic Therapy",
        "photodynamic-therapy",
        ("summary", "risks"),
        0.95,
    ),
    "cancer.org-2009/surgery.html": ("Surgery", "surgery", ("summary", "preparation", "procedure", "recovery"), 0.95),
    "urology-textbook.com/cystoscopy.html": ("Cystoscopy", "cystoscopy", ("risks",), 0.9),
    "urology-textbook.com/prostate-biopsy.html": (
        "Transrectal and Perineal Prostate Biopsy",
        "prostate-biopsy",
        ("indications", "preparation", "risks"),
        0.9,
    ),
    "urology-textbook.com/vasectomy.html": ("No-Scalpel Vasectomy", "vasectomy", ("indications", "risks"), 0.9),
    "mayoclinic.org/shingles-symptoms-causes-CONDITION-PAGE.html": (
        "Shingles",
        "shingles-symptoms-causes-syc-20353054",
        ("summary", "risks"),
        0.6,
    ),
    "mayoclinic.org/lung-transplant-care-at-mayo.html": (
        "Lung transplant",
        "lung-transplant-care-at-mayo-clinic-pcc-20384757",
        ("experience",),
        0.7,
    ),
    "webmd.com/leg-lengthening-surgery.html": (
        "Leg-Lengthening Surgery: What Is It?",
        "leg-lengthening-surgery-overview",
        ("summary", "risks", "recovery"),
        0.6,
    ),
    "webmd.com/breast-self-exam.html": ("Should You Do a Breast Self-Exam?", "breast-self-exam", ("summary",), 0.6),
}


def report_of(path: Path, source: str) -> Any:
    return parse_page_report(path.read_bytes(), source=source)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_real_page_parses_as_expected(name: str) -> None:
    expected = PAGES[name]
    report = report_of(FIXTURES / name, Path(name).name)
    doc = report.doc
    assert doc.title == expected["title"]
    assert doc.code == expected["id"] and doc.code_system == ""
    assert list(doc.common_names) == expected["names"]
    for section, first_words in expected["sections"].items():
        assert " ".join(doc.sections[section].split()).startswith(first_words), section
    if name.startswith("medlineplus/"):
        assert set(MEDLINEPLUS_SECTIONS) <= set(doc.sections)
    for heading in expected["other"]:
        assert heading in doc.other, heading
    assert report.coverage.share >= expected["coverage"]
    assert not report.coverage.suspicious


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_word_of_a_real_page_is_kept_or_dropped_with_a_reason(name: str) -> None:
    report = report_of(FIXTURES / name, Path(name).name)
    coverage = report.coverage
    assert coverage.kept + sum(coverage.dropped.values()) == coverage.words
    assert all(block.reason for block in report.dropped)
    # What is dropped from these pages is furniture of a known kind, nothing vaguer.
    assert set(coverage.dropped) <= STRONG_REASONS | {"page furniture", "outside the main content"}


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/foreign-pages is not here (the all-rights-reserved pages live only there)"
)
@pytest.mark.parametrize("name", sorted(SHARED_PAGES))
def test_all_rights_reserved_real_page(name: str) -> None:
    title, page_id, sections, floor = SHARED_PAGES[name]
    report = report_of(SHARED / name, Path(name).name)
    assert (report.doc.title, report.doc.code) == (title, page_id)
    assert set(sections) <= set(report.doc.sections)
    assert report.coverage.share >= floor


def test_styled_paragraph_headings_of_a_site_without_heading_tags() -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/foreign-pages is not here")
    report = report_of(SHARED / "cancer.org-2009/hyperthermia.html", "hyperthermia.html")
    hows = {origin.heading: origin.how for origin in report.origins}
    assert hows["Side effects"] == "styled line (p.t8)"
    assert report.doc.sections["risks"].startswith("The possible side effects of hyperthermia")


def test_a_heading_that_says_more_than_its_section_name_is_kept_in_the_section_text() -> None:
    doc = report_of(FIXTURES / "real/cdc.gov-2010/vaccine-side-effects.html", "vaccine-side-effects.html").doc
    risks = doc.sections["risks"]
    # Some 50 headings map to the risks section; those that name their vaccine keep the name.
    assert "Anthrax vaccine side-effects\nLike any medicine" in risks
    assert "What are the risks from Hib (Haemophilus influenzae type b) vaccine?\n" in risks
    # A heading that is only a name of its section ("Risks") or repeats its text adds nothing.
    seed = parse_page_report((FIXTURES / "seed-63685.html").read_bytes(), source="seed-63685.html").doc
    assert not any(text.startswith(("Summary", "Risks and Complications")) for text in seed.sections.values())
