"""The REMS Patient Monitoring Form as a PDF: the form's sections as they are on the page, on
US Letter, in the PDF standard fonts (nothing is loaded from disk or the network)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.http import HttpResponse
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from kapcare.dosing import rems, rules
from kapcare.dosing.models import RemsForm

TITLE = "Esketamine REMS Patient Monitoring Form"
PREPARED = (
    "Prepared from the dosing session record in kapcare, for submission to the Spravato REMS. "
    "Check each item against the chart before sending it. Items the record does not hold are "
    "marked “Not recorded” and listed below; they are never filled in for you."
)
# The standard PDF fonts cover Latin-1 and a few more; these are the signs the record uses
# beyond them.
PLAIN = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "±": "+/-"})


def _text(value: str) -> str:
    return escape(str(value).translate(PLAIN))


def rems_form_pdf(form: RemsForm, *, compress: bool = True) -> bytes:
    """The form as PDF bytes (`compress=False` leaves the page text readable in the file, for
    tests)."""
    data = form.data
    status = rems.form_status(form)
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor="#444444")
    label = ParagraphStyle("label", parent=body, textColor="#333333")
    heading = ParagraphStyle(
        "heading", parent=styles["Heading3"], fontSize=10.5, spaceBefore=6, spaceAfter=2
    )
    title = ParagraphStyle("title", parent=styles["Title"], fontSize=15, spaceAfter=4)

    width = letter[0] - 36 * mm
    story: list[Flowable] = [
        Paragraph(_text(TITLE), title),
        Paragraph(_text(PREPARED), small),
        Spacer(1, 3 * mm),
    ]

    def table(rows: list[tuple[str, str]]) -> Table:
        cells = [[Paragraph(_text(k), label), Paragraph(_text(v), body)] for k, v in rows]
        grid = Table(cells, colWidths=[width * 0.36, width * 0.64])
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

    submission = [
        ("Due by", f"{form.due_on:%Y-%m-%d}"),
        ("Status", f"{status.label} — {status.reason}"),
        (
            "Submitted",
            f"{form.submitted_on:%Y-%m-%d}, reference {form.reference}"
            + (f", recorded by {form.submitted_by.display_name}" if form.submitted_by else "")
            if form.submitted_on
            else "Not yet submitted",
        ),
    ]
    story += [Paragraph("Submission", heading), table(submission)]
    missing = data.get("missing") or []
    if missing:
        story.append(Paragraph("Not in the record", heading))
        story.append(Paragraph(_text("; ".join(item["label"] for item in missing) + "."), body))
    for section in rems.form_sections(data):
        # A section is not split across pages.
        parts: list[Flowable] = [Paragraph(_text(section.title), heading), table(section.rows)]
        parts += [Paragraph(_text(note), small) for note in section.notes]
        story.append(KeepTogether(parts))
    sources = [
        rules.REMS_SOURCE,
        data["site"]["source"],
        data["medicines"]["source"],
        data["blood_pressure"]["source"],
        data["sedation"]["source"],
        data["dissociation"]["source"],
        data["respiratory"]["source"],
    ]
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph("Sources", heading))
    story += [Paragraph(_text(source), small) for source in sources]

    footer = f"{TITLE} · session {data['session']['date']} · form {form.public_id}"

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
        subject="Prepared from the session record for submission to the REMS",
        pageCompression=1 if compress else 0,
        invariant=1,
    )
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def pdf_response(form: RemsForm) -> HttpResponse:
    """The PDF as a download. The file name has the session's date, not the client's name: the
    browser's download list and the computer's files show it."""
    response = HttpResponse(rems_form_pdf(form), content_type="application/pdf")
    name = f"rems-monitoring-form-{form.data['session']['date']}-{str(form.public_id)[:8]}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
