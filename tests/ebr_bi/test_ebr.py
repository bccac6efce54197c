"""`banso ebr`: the executive business review of a demo account as PDF (rasterised and read
back), PPTX and HTML, in Japanese and English; fiscal periods; bulk for a segment; the 360's
download."""

from __future__ import annotations

import ctypes
import io
import re
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pptx import Presentation

from banso.errors import BansoError
from banso.revenue.fiscal import last_complete_quarter, parse_fiscal_period

HEADINGS = {
    "en": ["Objectives and progress", "Usage and adoption", "Health score", "Value delivered",
           "Support summary", "NPS and CSAT", "Renewal and expansion outlook", "Next steps"],
    "ja": ["目標と進捗", "利用状況と定着", "ヘルススコア", "提供した価値", "サポートの概要",
           "NPS と CSAT", "更新と拡大の見通し", "次のステップ"],
}  # fmt: skip
TITLE = {"en": "Business review: ", "ja": "ビジネスレビュー: "}


def test_fiscal_periods_are_parsed_with_the_april_start() -> None:
    q3 = parse_fiscal_period("FY2025Q3")
    assert (q3.label, q3.first_day, q3.last_day) == (
        "FY2025 Q3",
        date(2025, 10, 1),
        date(2025, 12, 31),
    )
    year = parse_fiscal_period("fy2025")
    assert (year.label, year.first_day, year.last_day) == (
        "FY2025",
        date(2025, 4, 1),
        date(2026, 3, 31),
    )
    q4 = parse_fiscal_period("FY2025Q4")
    assert (q4.first_day, q4.last_day) == (date(2026, 1, 1), date(2026, 3, 31))
    for bad in ("2025Q3", "FY2025Q5", "FY25", ""):
        with pytest.raises(BansoError, match="FY2025Q3"):
            parse_fiscal_period(bad)
    assert last_complete_quarter(date(2026, 1, 15)).label == "FY2025 Q3"
    assert last_complete_quarter(date(2026, 4, 1)).label == "FY2025 Q4"
    assert last_complete_quarter(date(2025, 6, 30)).label == "FY2024 Q4"
    assert last_complete_quarter(date(2025, 7, 1)).label == "FY2025 Q1"
    assert last_complete_quarter(date(2026, 2, 1), start_month=1).label == "FY2025 Q4"


def _fonts(pdf: pdfium.PdfDocument) -> set[tuple[str, bool]]:
    """(base font name, embedded) of every text object of the document."""
    found = set()
    for page in pdf:
        for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_TEXT]):
            font = pdfium.raw.FPDFTextObj_GetFont(obj.raw)
            size = pdfium.raw.FPDFFont_GetBaseFontName(font, None, 0)
            name = ctypes.create_string_buffer(size)
            pdfium.raw.FPDFFont_GetBaseFontName(font, name, size)
            found.add((name.value.decode(), bool(pdfium.raw.FPDFFont_GetIsEmbedded(font))))
    return found


def _chart_pixels(page: pdfium.PdfPage, scale: float = 1.0) -> list[float]:
    """For each image on the page, the share of its rasterised pixels that are not white."""
    bitmap = page.render(scale=scale).to_pil().convert("L")
    height = page.get_height()
    shares = []
    for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        box = (int(left * scale), int((height - top) * scale),
               int(right * scale), int((height - bottom) * scale))  # fmt: skip
        histogram = bitmap.crop(box).histogram()
        shares.append(sum(histogram[:240]) / sum(histogram))
    return shares


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_pdf_has_every_heading_its_charts_and_embedded_japanese_fonts(
    cli, demo: Path, tmp_path: Path, lang: str
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"review-{lang}.pdf"
    result = cli("ebr", "1", "--period", "FY2025Q4", "--format", "pdf", "--lang", lang,
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    content = out.read_bytes()
    assert content.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(content)
    # every text object is set in an embedded subset of Noto Sans CJK JP (not merely named)
    fonts = _fonts(pdf)
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert all(re.fullmatch(r"[A-Z]{6}\+Noto-Sans-CJK-JP(-\w+)?", name) for name, _e in fonts)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    text = text.replace("\r", "")
    assert TITLE[lang] in text
    assert "グローバル松竹人材合同会社" in text  # account 1 of the demo, in the text layer
    for heading in HEADINGS[lang]:
        assert heading in text, heading
    # success plan (account 1's objective, 30 of 10→50: 50 %) and the quarter
    assert "請求書の電子化" in text
    assert "50.0%" in text
    assert "FY2025 Q4" in text
    assert "2026-01-01 – 2026-03-31" in text
    # charts: usage per week, health score, MRR — each image has drawn (non-white) pixels
    shares = [s for i in range(len(pdf)) for s in _chart_pixels(pdf[i])]
    assert len(shares) == 3
    assert all(s > 0.03 for s in shares), shares
    # Japanese glyphs are drawn, not boxes: the title line has ink where its characters are
    first = pdf[0].render(scale=1).to_pil().convert("L")
    assert sum(first.crop((40, 40, 500, 80)).histogram()[:128]) > 500


@pytest.mark.slow
def test_pptx_has_a_title_slide_and_one_slide_per_section(cli, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "review.pptx"
    result = cli("ebr", "1", "--period", "FY2025Q4", "--format", "pptx", "--lang", "ja",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    deck = Presentation(io.BytesIO(out.read_bytes()))
    titles = [slide.shapes.title.text for slide in deck.slides]
    assert titles[0].startswith("ビジネスレビュー: ")
    assert titles[1:] == HEADINGS["ja"]
    pictures = [shape for slide in deck.slides for shape in slide.shapes if shape.shape_type == 13]
    assert len(pictures) == 3
    for slide in deck.slides:  # nothing runs off the slide
        for shape in slide.shapes:
            assert shape.top + shape.height <= deck.slide_height


@pytest.mark.slow
def test_a_period_without_data_says_so_instead_of_drawing_blank_charts(
    cli, demo: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "old.html"
    result = cli("ebr", "2", "--period", "FY2020Q1", "--format", "html", "--lang", "en",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    html = out.read_text("utf-8")
    assert "<img" not in html
    for sentence in ("No usage data for this period.", "No health scores for this period.",
                     "No support tickets in this period.", "No survey responses in this period.",
                     "No MRR in the twelve months up to this period&#39;s end."):  # fmt: skip
        assert sentence in html, sentence


@pytest.mark.slow
def test_bulk_writes_one_review_per_account_of_the_segment(cli, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("ebr", "--segment", "enterprise", "--period", "FY2025Q4", "--format", "html",
                 "--to", str(tmp_path / "out"))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    files = sorted((tmp_path / "out").glob("ebr-*-FY2025Q4-en.html"))
    assert len(files) == 8  # the demo's enterprise segment on 2026-05-01
    assert "Wrote 8 reviews" in result.stdout
    assert "Writing reviews" in result.stderr


def test_bad_input_is_a_clear_error(cli, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = cli("ebr", "1", "--period", "2025-Q3")
    assert bad.exit_code == 2
    assert "FY2025Q3" in bad.stderr
    assert cli("ebr", "1", "--period", "FY2025Q3", "--format", "docx").exit_code == 2
    unknown = cli("ebr", "--segment", "nope", "--period", "FY2025Q3", "--to", str(tmp_path))
    assert unknown.exit_code == 2
    assert "no segment nope" in unknown.stderr
    assert cli("ebr", "999999", "--period", "FY2025Q3").exit_code == 2
