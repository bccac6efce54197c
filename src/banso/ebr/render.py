"""The review's document laid out as HTML (Jinja2), PDF (WeasyPrint: HTML and CSS to PDF with
the Noto CJK font embedded as a subset) and PPTX (python-pptx: a title slide and one slide per
section)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from banso.ebr import charts
from banso.ebr.document import Document

FORMATS = ("html", "pdf", "pptx")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
CHART_HEIGHT_RATIO = charts.SIZE[1] / charts.SIZE[0]
_TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(
    loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
)
_env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")


def render(document: Document, fmt: str) -> bytes:
    """The document as ``fmt`` (html, pdf or pptx) bytes."""
    if fmt == "html":
        return html(document).encode("utf-8")
    if fmt == "pdf":
        return pdf(document)
    return pptx(document)


def html(document: Document) -> str:
    return _env.get_template("review.html").render(doc=document)


def pdf(document: Document) -> bytes:
    # imported here: WeasyPrint loads pango through ctypes at import, which only the PDF needs
    from weasyprint import HTML

    return HTML(string=html(document)).write_pdf()  # type: ignore[no-any-return]


def pptx(document: Document) -> bytes:
    # imported here, like WeasyPrint and matplotlib: only a deck needs python-pptx
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    title_slide = deck.slides.add_slide(deck.slide_layouts[0])
    title_slide.shapes.title.text = document.title
    title_slide.placeholders[1].text = document.subtitle
    for section in document.sections:
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
        slide.shapes.title.text = section.heading
        top = Inches(1.5)
        texts = [*section.lines, *([section.no_data] if section.no_data else [])]
        if texts:
            box = slide.shapes.add_textbox(Inches(0.6), top, Inches(12), Inches(0.4 * len(texts)))
            frame = box.text_frame
            frame.word_wrap = True
            for i, text in enumerate(texts):
                paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                paragraph.text = text
                paragraph.font.size = Pt(16)
            top = Emu(top + box.height + Inches(0.2))
        if section.table:
            header, rows = section.table
            shape = slide.shapes.add_table(
                len(rows) + 1,
                len(header),
                Inches(0.6),
                top,
                Inches(12),
                Inches(0.4 * (len(rows) + 1)),
            )
            for c, text in enumerate(header):
                shape.table.cell(0, c).text = text
            for r, row in enumerate(rows, start=1):
                for c, text in enumerate(row):
                    shape.table.cell(r, c).text = text
            top = Emu(top + shape.height + Inches(0.2))
        if section.chart:
            # as wide as the table, or shorter when text and table left less room
            room = deck.slide_height - top - Inches(0.3)
            width, ratio = Inches(10), CHART_HEIGHT_RATIO
            if width * ratio > room:
                width = int(room / ratio)
            slide.shapes.add_picture(io.BytesIO(section.chart), Inches(0.6), top, width=width)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
