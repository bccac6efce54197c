"""The accounts list's search key: one folded text per account that every search term is matched in.

``search_key`` joins the account's name, normalised name, kana reading and domain, each folded by
``fold_for_search`` (NFKC, so half-width kana and full-width letters match; case folded; katakana
as hiragana), one per line. A search term folded the same way matches when it is a substring of
the key, so a search is one ``LIKE`` per term on one column instead of one per column and kana
script, and SQLite and PostgreSQL compare the same folded text (no engine-specific case rules).

The key is written with the account: the ``Account`` model fills it on every ORM insert and
update and on Core inserts that leave it out; the importer's raw bulk insert sets it itself.

``search_terms`` folds what a user types the same way, adding its kana reading when it is romaji.
"""

from __future__ import annotations

import unicodedata

SEPARATOR = "\n"
"""Between the key's fields, so no term matches across two of them (terms are one line)."""


_KATAKANA_TO_HIRAGANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}


def fold_for_search(text: str) -> str:
    """``text`` as the search compares it: NFKC, case folded, katakana as hiragana."""
    # translate, not a character loop: an import of 200,000 new accounts folds 400,000 texts
    return unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)


def search_key(
    name: str | None, normalized_name: str | None, kana: str | None, domain: str | None
) -> str:
    """The folded fields an account is found by, one per line.

    A field that is part of an earlier one is left out (株式会社サンプル holds the normalised name
    サンプル and, in hiragana, the reading サンプル): every term it contains is in that field too,
    and the key stays short.
    """
    fields: list[str] = []
    for value in (name, normalized_name, kana, domain):
        folded = fold_for_search(value).replace(SEPARATOR, " ") if value else ""
        if folded and not any(folded in f for f in fields):
            fields.append(folded)
    return SEPARATOR.join(fields)


def search_terms(text: str) -> list[str]:
    """The search text's variants folded as ``Account.search_key`` is (``accounts.search``): the
    text itself and, when it is romaji, its kana reading. An account matches when its key holds
    one of them."""
    terms = (fold_for_search(v) for v in search_variants(text))
    return [t for t in dict.fromkeys(terms) if t and SEPARATOR not in t]


def search_variants(text: str) -> list[str]:
    """The search text as typed (NFKC, so half-width kana match), in katakana and in hiragana;
    romaji (``yamada``) is also read as kana, so it finds ヤマダ in the kana column."""
    text = unicodedata.normalize("NFKC", text).strip()
    kana = romaji_to_hiragana(text)
    if kana is not None:
        return list(dict.fromkeys([text, kana, _katakana(kana)]))
    hiragana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)
    return list(dict.fromkeys([text, _katakana(text), hiragana]))


def romaji_to_hiragana(text: str) -> str | None:
    """Hepburn or kunrei romaji as hiragana (``Yamada`` -> やまだ, ``shinjuku`` -> しんじゅく);
    None when ``text`` is not romaji (digits, dots, letters that spell no kana)."""
    word = text.lower().replace(" ", "").replace("-", "ー")
    if not word or not all("a" <= c <= "z" or c == "ー" for c in word):
        return None
    out: list[str] = []
    i = 0
    while i < len(word):
        c = word[i]
        if c == "ー":
            out.append(c)
            i += 1
            continue
        if c == "n" and (i + 1 == len(word) or word[i + 1] not in "aiueoy"):
            out.append("ん")
            # "nn" is ん alone unless a vowel follows: konnichiha = ko-n-ni-chi-ha.
            doubled = word[i + 1 : i + 2] == "n" and word[i + 2 : i + 3] not in tuple("aiueoy")
            i += 2 if doubled else 1
            continue
        if i + 1 < len(word) and c == word[i + 1] and c not in "aiueon":
            out.append("っ")
            i += 1
            continue
        for size in (3, 2, 1):
            kana = _ROMAJI.get(word[i : i + size])
            if kana is not None:
                out.append(kana)
                i += size
                break
        else:
            return None
    return "".join(out)


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def _romaji_table() -> dict[str, str]:
    rows = {
        "": "あいうえお", "k": "かきくけこ", "s": "さしすせそ", "t": "たちつてと",
        "n": "なにぬねの", "h": "はひふへほ", "m": "まみむめも", "r": "らりるれろ",
        "g": "がぎぐげご", "z": "ざじずぜぞ", "d": "だぢづでど", "b": "ばびぶべぼ",
        "p": "ぱぴぷぺぽ",
    }  # fmt: skip
    table = {c + v: kana for c, line in rows.items() for v, kana in zip("aiueo", line, strict=True)}
    table.update({"ya": "や", "yu": "ゆ", "yo": "よ", "wa": "わ", "wo": "を", "shi": "し",
                  "chi": "ち", "tsu": "つ", "fu": "ふ", "ji": "じ", "f": "ふ"})  # fmt: skip
    for consonant, base in (("k", "き"), ("g", "ぎ"), ("n", "に"), ("h", "ひ"), ("m", "み"),
                            ("r", "り"), ("b", "び"), ("p", "ぴ"), ("s", "し"), ("z", "じ"),
                            ("t", "ち")):  # fmt: skip
        for v, small in zip("auo", "ゃゅょ", strict=True):
            table[f"{consonant}y{v}"] = base + small
    for prefix, base in (("sh", "し"), ("ch", "ち"), ("j", "じ")):
        for v, small in zip("auo", "ゃゅょ", strict=True):
            table[f"{prefix}{v}"] = base + small
        table[f"{prefix}e"] = base + "ぇ"
    return table


_ROMAJI = _romaji_table()
