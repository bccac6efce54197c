"""The 360's business review: the form on the page, the PDF and PPTX downloads for any signed-in
reader (a viewer too), the last complete quarter by default, a clear 400 for a bad period."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from fastapi.testclient import TestClient
from pptx import Presentation

from web.world import World


def test_the_360_offers_the_review_and_serves_pdf_and_pptx(
    client: TestClient, world: World, sign_in
) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    assert f'action="/accounts/{world.yamada}/ebr"' in page.text
    assert "ビジネスレビュー" in page.text

    pdf = client.get(f"/accounts/{world.yamada}/ebr", params={"period": "FY2025Q4"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="ebr-{world.yamada}-FY2025Q4-en.pdf"'
    )
    document = pdfium.PdfDocument(pdf.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Business review: " in text and "Next steps" in text

    deck = client.get(
        f"/accounts/{world.yamada}/ebr",
        params={"format": "pptx", "lang": "ja"},
    )
    assert deck.status_code == 200
    slides = Presentation(io.BytesIO(deck.content)).slides
    assert slides[0].shapes.title.text.startswith("ビジネスレビュー: ")
    # no period given: the last complete fiscal quarter
    assert "FY" in deck.headers["content-disposition"]


def test_a_bad_period_or_account_is_a_client_error(
    client: TestClient, world: World, sign_in
) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    bad = client.get(f"/accounts/{world.yamada}/ebr", params={"period": "2025Q3"})
    assert bad.status_code == 400
    assert "FY2025Q3" in bad.text
    assert client.get("/accounts/999999/ebr").status_code == 404
    assert client.get(f"/accounts/{world.yamada}/ebr", params={"format": "docx"}).status_code == 422


def test_signed_out_readers_are_sent_to_sign_in(client: TestClient, world: World) -> None:
    response = client.get(f"/accounts/{world.yamada}/ebr", follow_redirects=False)
    assert response.status_code in (303, 401)
