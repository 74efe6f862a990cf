"""The treatment summary for the referring provider, as a PDF: who the client is, the course,
the doses, where the client stands on each instrument with its chart, integration adherence and
the adverse events, on US Letter in the PDF standard fonts (nothing is loaded from disk or the
network). The figures are `kapcare.outcomes.progress.client_progress`, as on the progress page.
"""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from kapcare.core.time import practice_zone
from kapcare.courses.models import Route
from kapcare.outcomes.progress import (
    SOURCE,
    AdverseEventCount,
    ClientProgress,
    InstrumentProgress,
    adverse_events_during,
)

TITLE = "Treatment summary"
PREPARED = (
    "Prepared from the clinical record in kapcare for the client's referring provider. Scores "
    "are the client's current (corrected where corrected) questionnaire and rating-scale totals."
)
# The standard PDF fonts cover Latin-1 and a few more; these are the signs the text uses beyond
# them.
PLAIN = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "\N{MINUS SIGN}": "-", "–": "-"})
LINE_COLOUR = colors.HexColor("#1b4f8f")
REMISSION_COLOUR = colors.HexColor("#17603a")


def _text(value: object) -> str:
    return escape(str(value).translate(PLAIN))


def _day(moment: dt.datetime | None) -> str:
    return f"{moment.astimezone(practice_zone()):%Y-%m-%d}" if moment else "—".translate(PLAIN)


def _yes_no(value: bool | None, yes: str, no: str, reason: str) -> str:
    if value is None:
        return f"not judged ({reason})" if reason else "not judged"
    return yes if value else no


def _status_rows(item: InstrumentProgress) -> list[tuple[str, str]]:
    progress = item.progress
    base, latest, previous = item.baseline, item.latest, item.previous
    rows = [
        ("Baseline", f"{base.total} ({_day(base.at)})" if base else "—"),
        ("Previous", f"{previous.total} ({_day(previous.at)})" if previous else "—"),
        ("Latest", f"{latest.total} ({_day(latest.at)})" if latest else "—"),
        ("Change from baseline", item.change_text or progress.reasons.get("change", "")),
    ]
    if not item.defined:
        rows.append(
            (
                "Response and remission",
                f"Not defined for {item.short_name} in {SOURCE}; the change is shown only.",
            )
        )
        return rows
    rows += [
        (
            "Response",
            _yes_no(item.response, "yes", "no", item.response_reason)
            + f". Definition: {item.response_definition}.",
        ),
        (
            "Remission",
            _yes_no(item.remission, "yes", "no", item.remission_reason)
            + f". Definition: {item.remission_definition}.",
        ),
        (
            "First response",
            f"{_day(progress.first_response.at)}, day {progress.days_to_first_response}"
            if progress.first_response
            else progress.reasons.get("first_response", ""),
        ),
        (
            "First remission",
            f"{_day(progress.first_remission.at)}, day {progress.days_to_first_remission}"
            if progress.first_remission
            else progress.reasons.get("first_remission", ""),
        ),
    ]
    if progress.relapse is not None:
        rows.append(
            (
                "Relapse",
                f"{_day(progress.relapse.at)}, day {progress.days_to_relapse} after remission",
            )
        )
    for standing in item.durability:
        reason = f" ({standing.reason})" if standing.reason else ""
        rows.append((f"Remission kept {standing.label}", standing.status + reason))
    return rows


def _chart(item: InstrumentProgress, width: float) -> Drawing | None:
    """The instrument's totals by day from the baseline, with the remission threshold dashed."""
    scores = item.progress.scores
    total_range = item.instrument.total_range
    if len(scores) < 2 or total_range is None:
        return None
    start = scores[0].at
    points = [
        (round((score.at - start).total_seconds() / 86400, 2), score.total) for score in scores
    ]
    height = 52 * mm
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = 14 * mm, 10 * mm
    plot.width, plot.height = width - 20 * mm, height - 18 * mm
    plot.data = [points]
    plot.lines[0].strokeColor = LINE_COLOUR
    plot.lines[0].strokeWidth = 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3.5, fillColor=LINE_COLOUR)
    plot.joinedLines = 1
    span = max(points[-1][0], 14)
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = span
    plot.xValueAxis.labels.fontName = "Helvetica"
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = total_range
    plot.yValueAxis.labels.fontName = "Helvetica"
    plot.yValueAxis.labels.fontSize = 7
    drawing.add(plot)
    rule = item.remission_rule
    if rule is not None:
        low, high = total_range
        level = plot.y + plot.height * (rule.at_most - low) / (high - low)
        drawing.add(
            Line(
                plot.x,
                level,
                plot.x + plot.width,
                level,
                strokeColor=REMISSION_COLOUR,
                strokeDashArray=[3, 2],
                strokeWidth=0.8,
            )
        )
        drawing.add(
            String(
                plot.x + plot.width - 2,
                level + 2,
                f"remission <= {rule.at_most}",
                fontName="Helvetica",
                fontSize=6.5,
                fillColor=REMISSION_COLOUR,
                textAnchor="end",
            )
        )
    drawing.add(
        String(
            plot.x,
            height - 6,
            f"{item.short_name} total by day from the baseline ({_day(start)})",
            fontName="Helvetica-Bold",
            fontSize=8,
        )
    )
    return drawing


def summary_pdf(
    progress: ClientProgress, adverse: AdverseEventCount, *, compress: bool = True
) -> bytes:
    """The summary as PDF bytes (`compress=False` leaves the page text readable in the file,
    for tests)."""
    client = progress.client
    course = progress.course
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor="#444444")
    label = ParagraphStyle("label", parent=body, textColor="#333333")
    heading = ParagraphStyle(
        "heading", parent=styles["Heading3"], fontSize=10.5, spaceBefore=6, spaceAfter=2
    )
    title = ParagraphStyle("title", parent=styles["Title"], fontSize=15, spaceAfter=4)
    width = letter[0] - 36 * mm

    def table(rows: list[tuple[str, str]]) -> Table:
        cells = [[Paragraph(_text(k), label), Paragraph(_text(v), body)] for k, v in rows]
        grid = Table(cells, colWidths=[width * 0.32, width * 0.68])
        grid.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f4f5f7")),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return grid

    made_on = f"{progress.now.astimezone(practice_zone()):%Y-%m-%d}"
    story: list[Flowable] = [
        Paragraph(_text(f"{TITLE}: {client.legal_name}"), title),
        Paragraph(_text(f"{PREPARED} {settings.PRACTICE_NAME}, {made_on}."), small),
        Spacer(1, 3 * mm),
    ]
    who = [
        ("Name", client.legal_name),
        ("Date of birth", f"{client.date_of_birth:%Y-%m-%d}"),
    ]
    if client.preferred_name:
        who.insert(1, ("Preferred name", client.preferred_name))
    if client.referring_provider:
        who.append(
            (
                "Referred by",
                f"{client.referring_provider} {client.referring_provider_contact}".strip(),
            )
        )
    story += [Paragraph("Client", heading), table(who)]

    if course is not None:
        about = [
            ("Protocol", course.get_protocol_display()),
            ("Route", Route(course.plan.route).label),
            ("Started", f"{course.started_on:%Y-%m-%d}"),
            ("Phase", course.get_phase_display()),
        ]
        if course.ended_on:
            about.append(("Ended", f"{course.ended_on:%Y-%m-%d}"))
        if progress.next_course is not None and progress.until is not None:
            about.append(("Scores counted until", f"{_day(progress.until)} (next course)"))
        story += [Paragraph("Course", heading), table(about)]
    else:
        story += [
            Paragraph("Course", heading),
            Paragraph(
                "No treatment course recorded: the figures below run over all the client's "
                "scores, the first one being the baseline.",
                body,
            ),
        ]

    if course is not None:
        story.append(Paragraph(_text(f"Doses received ({len(progress.doses)})"), heading))
        if progress.doses:
            cells = [[Paragraph(_text(h), label) for h in ("Date", "Route", "Dose")]]
            cells += [
                [
                    Paragraph(_text(_day(dose.given_at)), body),
                    Paragraph(_text(dose.route), body),
                    Paragraph(_text(dose.amount), body),
                ]
                for dose in progress.doses
            ]
            grid = Table(cells, colWidths=[width * 0.2, width * 0.4, width * 0.4], repeatRows=1)
            grid.setStyle(
                TableStyle(
                    [
                        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f5f7")),
                        ("TOPPADDING", (0, 0), (-1, -1), 2),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                    ]
                )
            )
            story.append(grid)
        else:
            story.append(Paragraph("No doses recorded.", body))
        adherence = progress.adherence
        if adherence is not None:
            text = (
                f"{adherence.met} of {adherence.evaluated} doses judged were followed by a held "
                f"integration session within {adherence.window_hours} hours of the dosing "
                "session's end"
            )
            if adherence.pending:
                text += f"; {adherence.pending} still inside an open window (pending)"
            story += [Paragraph("Integration adherence", heading), Paragraph(_text(text), body)]

    serious = f", {adverse.serious} serious" if adverse.total else ""
    period = "during the course" if course is not None else "in the record"
    story += [
        Paragraph("Adverse events", heading),
        Paragraph(_text(f"{adverse.total} recorded {period}{serious}."), body),
    ]

    status_heading = Paragraph("Current status", heading)
    if not progress.instruments:
        story += [status_heading, Paragraph("No scores recorded in this period.", body)]
    for index, item in enumerate(progress.instruments):
        # The heading stays with the first instrument; no instrument is split across pages.
        parts: list[Flowable] = [status_heading] if index == 0 else []
        parts += [Paragraph(_text(item.instrument.name), label), table(_status_rows(item))]
        chart = _chart(item, width)
        if chart is not None:
            parts += [Spacer(1, 2 * mm), chart]
        parts.append(Spacer(1, 3 * mm))
        story.append(KeepTogether(parts))

    story += [
        Paragraph("Definitions", heading),
        Paragraph(
            _text(
                "Response: a reduction of at least 50% from the baseline. Remission: at or "
                "below the instrument's threshold. Both as used in ketamine and esketamine "
                f"studies ({SOURCE}); days are calendar days from the baseline. Durability: "
                "whether the first remission was kept through 3 and 6 months (91 and 182 days, "
                "practice settings)."
            ),
            small,
        ),
    ]

    footer = f"{TITLE} · {client.legal_name} · born {client.date_of_birth:%Y-%m-%d} · {made_on}"

    def on_page(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(18 * mm, 10 * mm, footer.translate(PLAIN))
        canvas.drawRightString(letter[0] - 18 * mm, 10 * mm, f"Page {document.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
        title=TITLE,
        author="kapcare",
        subject="Treatment summary for the referring provider",
        pageCompression=1 if compress else 0,
        invariant=1,
    )
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def summary_response(progress: ClientProgress) -> HttpResponse:
    """The PDF as a download. The file name has the date, not the client's name: the browser's
    download list and the computer's files show it."""
    pdf = summary_pdf(progress, adverse_events_during(progress))
    response = HttpResponse(pdf, content_type="application/pdf")
    made_on = f"{progress.now.astimezone(practice_zone()):%Y-%m-%d}"
    name = f"treatment-summary-{made_on}-{str(progress.client.public_id)[:8]}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
