"""File uploads read as they stream in, so that nothing is stored for a request that may not
make it: the signed-in user and role are checked before the body is read at all, and the
form's CSRF field (which the form sends before the file) before the first byte of the file.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import AsyncGenerator, Callable
from pathlib import PurePosixPath

from fastapi import Request
from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartException, MultiPartParser, parse_options_header

from banso.errors import InvalidValue
from banso.i18n import _
from banso.web.auth import CSRF_FIELD, CSRF_HEADER, CsrfRejected

MAX_NAME_CHARS = 200
"""Longest stored upload name (characters); longer names keep their start and extension."""
MAX_FORM_FIELDS = 20


async def read_upload_form(request: Request) -> FormData:
    """The multipart form of ``request``, holding at most one file, whose CSRF token (the
    ``X-CSRF-Token`` header or a ``csrf_token`` field before the file) was checked before
    any file byte was written to a temporary file."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidValue("file", _("Send the file as a multipart/form-data form."))
    header = request.headers.get(CSRF_HEADER)

    def check_csrf(fields: dict[str, str]) -> None:
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            return
        expected = request.session.get("csrf")
        sent = header if header is not None else fields.get(CSRF_FIELD)
        if not expected or not sent or not secrets.compare_digest(str(expected), sent):
            raise CsrfRejected

    parser = _CsrfFirstParser(request.headers, request.stream(), before_file=check_csrf)
    try:
        form = await parser.parse()
    except MultiPartException as problem:
        reason = _("The upload is not a valid form: {problem}", problem=str(problem))
        raise InvalidValue("file", reason) from None
    if not parser.checked:  # a form without a file
        check_csrf({k: v for k, v in form.multi_items() if isinstance(v, str)})
    return form


def safe_upload_name(filename: str | None) -> str:
    """The uploaded file's own name, safe to create in a directory of ours: the last path
    component (``/`` or ``\\``), Unicode NFC, no control characters, at most
    :data:`MAX_NAME_CHARS` characters keeping the extension; InvalidValue when nothing usable
    is left (``.``, ``..``, an empty name)."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name.strip("."):
        raise InvalidValue(
            "file", _("The file name {name!r} cannot be used; rename the file.", name=filename)
        )
    if len(name) > MAX_NAME_CHARS:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: MAX_NAME_CHARS - len(suffix)] + suffix
    return name


class _CsrfFirstParser(MultiPartParser):
    """Starlette's multipart parser, calling ``before_file`` with the fields read so far when
    the first file part begins: raising there stops the upload before it is stored."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        before_file: Callable[[dict[str, str]], None],
    ) -> None:
        super().__init__(headers, stream, max_files=1, max_fields=MAX_FORM_FIELDS)
        self._before_file = before_file
        self.checked = False

    def on_headers_finished(self) -> None:
        _disposition, options = parse_options_header(self._current_part.content_disposition)
        if b"filename" in options and not self.checked:
            self._before_file({k: v for k, v in self.items if isinstance(v, str)})
            self.checked = True
        super().on_headers_finished()
