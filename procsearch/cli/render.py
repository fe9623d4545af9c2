"""The text the commands print for people (``--json`` prints the library's ``to_dict()`` instead):
results and hits, one record, a page's parse account, build and verify reports, similar codes,
evaluation tables and index statistics. Results go to stdout, advice and warnings to stderr."""

from __future__ import annotations

import shlex
from typing import Any

import click

from .context import printable

# --- index, reindex --------------------------------------------------------------------------------


def report_skips(skipped: Any) -> None:
    for skip in skipped:
        detail = f" ({printable(skip.detail)})" if skip.detail else ""
        click.echo(f"skipped {printable(skip.source)}: {skip.reason}{detail}", err=True)


def report_low_coverage(pages: Any) -> None:
    """Warn (on stderr) about pages whose record holds little of their text, for no strong reason."""
    for page in pages:
        click.echo(
            f"warning: {printable(page.source)}: only {page.coverage.share:.0%} of its {page.coverage.words:,} words "
            f"reached the record (see: procsearch parse {shlex.quote(page.source)})",
            err=True,
        )


def print_index_report(report: Any, folder: Any, index_path: Any) -> None:
    report_skips(report.skipped)
    report_low_coverage(report.low_coverage)
    reasons = ", ".join(f"{count} {reason}" for reason, count in report.skipped_by_reason().items())
    origin = ", ".join(
        f"{count} from {name if name != 'pages' else printable(folder)}" for name, count in report.sources.items()
    )
    click.echo(
        f"Indexed {report.indexed} documents ({origin}) into {printable(index_path)} in {report.seconds:.1f} s"
        + (f"; skipped {len(report.skipped)} ({reasons})" if report.skipped else "")
        + "."
    )


def print_reindex_report(report: Any, folder: Any, index_path: Any) -> None:
    report_skips(report.skipped)
    report_low_coverage(report.low_coverage)
    what = "rebuilt" if report.rebuilt else "reindexed"
    click.echo(
        f"{what} {printable(index_path)}: {report.added} added, {report.updated} updated, "
        f"{report.deleted} deleted, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
        f"{report.documents} documents; {report.seconds:.2f} s"
    )


# --- verify, generations ---------------------------------------------------------------------------


def print_verify_report(report: Any, index_path: Any, fix: str) -> None:
    click.echo(f"{index_path} ({report.generation}): {report.documents} documents, {report.terms} terms read")
    for problem in report.damage:
        click.echo(f"damaged: {problem}", err=True)
    for label, items in (("missing", report.missing), ("extra", report.extra), ("stale", report.stale)):
        for item in items:
            click.echo(f"{label}: {printable(item)}")
    if fix:
        click.echo(f"Fix: {fix}", err=True)
    click.echo(verdict(report))


def verdict(report: Any) -> str:
    """The one line that sums up a verify report."""
    if report.damaged:
        return f"Damaged: {len(report.damage)} problem(s) found; the index needs the fix above."
    if report.drifted:
        return (
            f"Drifted from the folder: {len(report.missing)} missing, {len(report.extra)} extra, "
            f"{len(report.stale)} stale."
        )
    sound = "Sound: every file matches its checksum, every document and posting reads"
    return f"{sound}, and the index matches the folder." if report.checked_corpus else f"{sound}."


def print_generations(found: Any) -> None:
    for generation in found:
        click.echo(
            f"{generation.name}  {generation.state:<11}  {generation.built_at}  {generation.documents} documents"
        )


# --- search ----------------------------------------------------------------------------------------


def print_results(results: Any, *, facets: bool, flat: bool = False, reading: bool = True) -> None:
    """A page of results as text: notices, remedies and the reading on standard error, the hits
    on standard output (``reading=False``: no "Read as" line, for a batch's many queries)."""
    for notice in results.notices:
        click.echo(notice, err=True)
    if results.remedies:
        from .errors import remedy_advice

        click.echo(remedy_advice(results.remedies), err=True)
    if results.corrected_query:
        click.echo(
            f"Showing results for {results.corrected_query!r} (searched instead of {results.query!r}; "
            "--no-correct to turn this off).",
            err=True,
        )
    if reading and results.interpretation:
        click.echo(reading_line(results.interpretation), err=True)
    if not results.hits:
        # The notices above say why, when the engine knows; otherwise suggest what usually helps.
        if results.offset and results.total:
            click.echo(f"No results past {results.offset:,}: {results.query!r} has {results.total:,}.", err=True)
            return
        advice = "" if results.notices else " Try fewer or more general words, or check the spelling."
        click.echo(f"No results for {results.query!r}.{advice}", err=True)
        return
    print_hits(results, flat=flat)
    if facets:
        for facet, counts in results.facets.items():
            click.echo(f"\n{facet}: " + ", ".join(f"{name} ({count})" for name, count in counts.items()))


def reading_line(interpretation: Any) -> str:
    """The query's ICD-10-PCS reading in one line ("Read as (ICD-10-PCS axes): root operation
    Resection; body part Appendix; ...")."""
    axes = "; ".join(f"{label} {' / '.join(values)}" for label, values in interpretation.named_axes())
    return f"Read as (ICD-10-PCS axes): {axes}"


def print_hits(results: Any, *, flat: bool = False) -> None:
    """One line per hit and its snippet; unless ``flat``, an ICD-10-PCS code family once, at its
    best hit, with the family's other codes on the page as variants."""
    code_width = max(len(hit.code) for hit in results.hits)
    system_width = max(len(hit.code_system) for hit in results.hits)
    indent = " " * (6 + code_width + system_width)
    for hit, variants in [(hit, "") for hit in results.hits] if flat else folded(results):
        head = f"{hit.rank:>2}. {click.style(hit.code.ljust(code_width), bold=True)}  {hit.code_system.ljust(system_width)}  {hit.title}"
        click.echo(head)
        if hit.snippet:
            click.echo(f"{indent}{click.style(hit.snippet.label + ':', dim=True)} {highlight(hit.snippet)}")
        if variants:
            click.echo(f"{indent}{click.style('Family', dim=True)} {variants}")
    shown = len(results.hits)
    if results.total > shown:
        total = f"{results.total:,}+" if results.total_capped else f"{results.total:,}"
        first, last = results.offset + 1, results.offset + shown
        window = f"{shown}" if results.offset == 0 else f"{first}-{last}"
        more = (
            f"use --limit to see more, or --offset {last} for the next ones"
            if results.offset == 0
            else f"--offset {last} for the next ones"
        )
        if last >= results.total:
            more = "the last ones"
        click.echo(click.style(f"({window} of {total} results; {more})", dim=True), err=True)


def folded(results: Any) -> list[tuple[Any, str]]:
    """(hit, variants line) for each row of the page (:func:`~procsearch.search.families.fold`):
    "0DTJ Resection of Appendix (percutaneous endoscopic above): 0DTJ0ZZ open (4)"."""
    from ..search.families import fold

    shown: list[tuple[Any, str]] = []
    for hit, family in fold(results):
        line = ""
        if family is not None:
            first, others = family.variants[0], family.variants[1:]
            variants = ", ".join(f"{v.code} {v.variant} ({v.rank})" for v in others)
            line = f"{family.family} {family.label} ({first.variant} above): {variants}"
        shown.append((hit, line))
    return shown


def highlight(snippet: Any) -> str:
    out, position = [], 0
    for start, end in snippet.highlights:
        out.append(snippet.text[position:start])
        out.append(click.style(snippet.text[start:end], fg="yellow", bold=True))
        position = end
    out.append(snippet.text[position:])
    return "".join(out)


# --- show, similar ---------------------------------------------------------------------------------


def print_doc(doc: Any) -> None:
    """Every part of one record: title, common names, each section, similar codes, source."""
    from ..ingest.sections import SECTIONS

    click.echo(click.style(f"{doc.code}  {doc.code_system}  {doc.title}", bold=True))
    if doc.common_names:
        click.echo(f"Common names: {'; '.join(doc.common_names)}")
    for item in SECTIONS:
        if item.name in doc.sections:
            click.echo(f"\n{click.style(item.label, bold=True)}\n{doc.sections[item.name]}")
    for heading, text in doc.other.items():
        click.echo(f"\n{click.style(heading, bold=True)}\n{text}")
    if doc.similar_codes:
        click.echo(f"\n{click.style('Similar Codes', bold=True)}\n{field_text(doc, 'similar')}")
    click.echo(click.style(f"\nsource: {doc.source}", dim=True))


def field_text(doc: Any, name: str) -> str:
    """The text of one searchable field of a record (a section, or title, names, similar, other)."""
    if name == "title":
        return str(doc.title)
    if name == "names":
        return "\n".join(doc.common_names)
    if name == "similar":
        return "\n".join(f"- {similar.code} {similar.label}".rstrip() for similar in doc.similar_codes)
    return str(doc.section_text(name))


def print_similar(result: Any) -> None:
    click.echo(click.style(f"{result.code}  {result.title}", bold=True))
    if result.listed:
        click.echo("\nListed on the page:")
        for entry in result.listed:
            mark = "" if entry.in_index else click.style("  (not in the index)", dim=True)
            click.echo(f"  {entry.code}  {entry.label or entry.title}{mark}")
    if result.neighbours:
        click.echo("\nSimilar content:")
        width = max(len(hit.code) for hit in result.neighbours)
        for hit in result.neighbours:
            click.echo(f"  {hit.code.ljust(width)}  {hit.code_system}  {hit.title}")


# --- parse -----------------------------------------------------------------------------------------


def print_parse_report(report: Any) -> None:
    from ..ingest.coverage import field_text as origin_text

    doc = report.doc
    coverage = report.coverage
    click.echo(click.style(f"{doc.code}  {doc.code_system or '(no code)'}  {doc.title}", bold=True))
    if doc.common_names:
        click.echo(f"Common names: {'; '.join(doc.common_names)}")
    click.echo(
        f"Coverage: {coverage.share:.0%} of {coverage.words:,} visible words reached the record"
        + ("  (suspiciously low: check the dropped blocks)" if coverage.suspicious else "")
    )
    click.echo(click.style("\nSections", bold=True))
    for origin in report.origins:
        heading = f'"{origin.heading}"' if origin.heading else "(no heading)"
        words = len(origin_text(doc, origin).split())
        click.echo(f"  {origin.field:<14} {heading}  [{origin.how or 'page title'}]  {words} words")
    if report.dropped:
        click.echo(click.style("\nDropped", bold=True))
        for block in report.dropped:
            click.echo(f"  {block.reason:<24} {block.words:>5} words  {block.text}")


# --- eval, stats -----------------------------------------------------------------------------------


def print_eval_report(report: Any) -> None:
    header = f"{'kind':<14}{'queries':>8}{'s@1':>8}{'s@3':>8}{'MRR@10':>8}{'nDCG@10':>9}"
    click.echo(header)
    rows = [("overall", report.overall), *report.by_kind.items()]
    for name, m in rows:
        click.echo(
            f"{name:<14}{m.count:>8}{m.success_at_1:>8.3f}{m.success_at_3:>8.3f}{m.mrr_at_10:>8.3f}{m.ndcg_at_10:>9.3f}"
        )
    if report.misses:
        click.echo(f"\nMisses (no acceptable code in the top 3): {len(report.misses)}")
        for miss in report.misses:
            got = ", ".join(miss.returned[:3]) or miss.error or "nothing"
            click.echo(f"  {miss.query.query!r} [{miss.query.kind}] wants {','.join(miss.query.acceptable)}; got {got}")


def print_stats(stats: Any) -> None:
    click.echo(f"Index:      {stats.index_path} ({stats.generation})")
    click.echo(f"Documents:  {stats.document_count}")
    click.echo(
        f"Built:      {stats.built_at} by procsearch {stats.package_version} (schema {stats.schema_version}, whoosh {stats.whoosh_version})"
    )
    click.echo(f"Size:       {stats.size_bytes / 1e6:.1f} MB")
    for source, release in stats.releases.items():
        click.echo(f"Code set:   {release} ({stats.sources.get(source, 0):,} documents)")
    click.echo("Systems:    " + ", ".join(f"{name} {count}" for name, count in stats.by_system.items()))
    click.echo("Groups:     " + ", ".join(f"{name} {count}" for name, count in stats.by_group.items()))
