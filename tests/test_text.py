"""Folding and snippets, independent of any database."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from app.text import fold, fold_slowly, snippet, tokens


def test_fold_vietnamese() -> None:
    assert fold("Đăng Ký") == "dang ky"
    assert fold("Võ Thành Hạo") == "vo thanh hao"
    assert fold("Hồ Thị Hoàng Yến") == "ho thi hoang yen"
    assert fold("Ủy ban nhân dân") == "uy ban nhan dan"


def test_fold_ignores_normal_form() -> None:
    text = "Trương Duy Hải, Phó chủ tịch UBND tỉnh"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text)
    assert fold(unicodedata.normalize("NFKD", text)) == fold(text)


@given(st.text())
def test_fold_keeps_one_character_per_nfc_character(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    assert len(fold(text)) == len(nfc)
    assert fold(fold(text)) == fold(text)


def test_fold_s_short_way_gives_each_character_one_ascii_character_or_none() -> None:
    """What fold's short way relies on, for every character NFD changes (the others are themselves:
    one ASCII character if they are ASCII, else none)."""
    changed = 0
    for code in range(0x110000):
        char = chr(code)
        nfd = unicodedata.normalize("NFD", char)
        if nfd == char:
            continue
        changed += 1
        ascii_chars = [c for c in nfd if c.isascii()]
        assert len(ascii_chars) <= 1, f"U+{code:04X}"
        if ascii_chars and not char.isascii():
            assert fold(char) == fold_slowly(char) == ascii_chars[0].lower(), f"U+{code:04X}"
    assert changed > 13000  # Hangul's 11,172 syllables among them


# Vietnamese letters, in both normal forms, beside what the short way must leave to the slow one:
# letters that fold to a letter of their own (ð, ø, ł), a mark with no letter before it, other scripts.
_MIXED = st.text(
    st.sampled_from(
        [
            *"aăâbcdđeêghiklmnoôơpqrstuưvxyĐÂÊÔƠƯ AEIOUY,.-\n",
            *"\u0300\u0301\u0303\u0309\u0323",  # grave, acute, tilde, hook above, dot below
            *"ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹÝ",
            *"ðÐøØłŁßæœ“”–…ﬁİ中文ñÅΩ",
        ]
    )
)


@given(st.one_of(st.text(), _MIXED))
def test_fold_gives_what_folding_each_character_gives(text: str) -> None:
    assert fold(text) == fold_slowly(text)


def test_tokens() -> None:
    assert tokens("Nghị quyết số 18, 19 (khóa XII)") == ["nghi", "quyet", "so", "18", "19", "khoa", "xii"]


def test_snippet_marks_matches_in_original_text() -> None:
    text = "từng đơn vị, địa phương đăng ký làm việc với các sở, ngành"
    assert snippet(text, ["dang", "ky"]) == "từng đơn vị, địa phương «đăng» «ký» làm việc với các sở, ngành"
    # Only the last word is a prefix: "d" as an earlier word marks nothing.
    assert snippet("đăng ký", ["d", "ky"]) == "đăng «ký»"


def test_snippet_windows_long_text() -> None:
    text = "mở đầu " * 60 + "đăng ký" + " kết thúc" * 60
    out = snippet(text, ["dang"], width=80)
    assert out.startswith("…")
    assert out.endswith("…")
    assert "«đăng»" in out
    assert len(out.replace("«", "").replace("»", "")) <= 80 + 2  # the window and two ellipses
