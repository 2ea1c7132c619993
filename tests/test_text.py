"""Folding and snippets, independent of any database."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from app.text import fold, snippet, tokens


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
