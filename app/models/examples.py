# ruff: noqa: E501  (verbatim passages of the seed stay on one line, to be found in it)
"""Examples for the OpenAPI document, copied from data/seed.json.

Ids are the ones the loader gives (records inserted in seed order from 1); the
timestamps are those of a load. tests/test_openapi.py checks that every text
here still occurs in the seed and that the API answers these very records.
"""

from __future__ import annotations

from typing import Any

from sqlmodel._compat import SQLModelConfig


def config(example: dict[str, Any]) -> SQLModelConfig:
    """The model_config of a public model: its example in the OpenAPI document."""
    return SQLModelConfig(json_schema_extra={"examples": [example]})


TIMESTAMP = "2026-11-26T06:39:31Z"

PERSON: dict[str, Any] = {
    "slug": "vo-thanh-hao",
    "full_name": "Võ Thành Hạo",
    "id": 1,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

MEETING: dict[str, Any] = {
    "slug": "ben-tre-2018-03-20-nq18-19",
    "title": "Hội nghị trực tuyến đánh giá tình hình triển khai, thực hiện Nghị quyết 18, 19 của Hội nghị Trung ương 6 (khóa XII)",
    "date": "2018-03-20",
    "starts_at": None,
    "timezone": "Asia/Ho_Chi_Minh",
    "organizer": "Tỉnh ủy Bến Tre",
    "format": "online",
    "connection_points": ["Bến Tre", "các huyện ủy, Thành ủy"],
    "purpose": "đánh giá tình hình triển khai quán triệt và tổ chức thực hiện Nghị quyết số 18, 19 của Hội nghị lần thứ 6 Ban Chấp hành Trung ương (khóa XII)",
    "summary": "Ngày 20-3-2018, Tỉnh ủy tổ chức Hội nghị trực tuyến với các huyện ủy, Thành ủy đánh giá tình hình triển khai quán triệt và tổ chức thực hiện Nghị quyết số 18, 19 của Hội nghị lần thứ 6 Ban Chấp hành Trung ương (khóa XII).",
    "source_publisher": "BDK.VN",
    "source_title": "Hội nghị trực tuyến đánh giá tình hình triển khai, thực hiện Nghị quyết 18, 19 của Hội nghị Trung ương 6 (khóa XII)",
    "source_published_at": "2018-03-20T16:53:00+07:00",
    "source_author": "Hoàng Lam",
    "source_photographer": "H. Hiệp",
    "source_url": None,
    "source_file": "000_42dfe0db393eb31b.txt",
    "id": 1,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

PARTICIPANT: dict[str, Any] = {
    "slug": "ben-tre-2018-03-20-nq18-19-vo-thanh-hao",
    "meeting_id": 1,
    "person_id": 1,
    "title": "Bí thư Tỉnh ủy",
    "organization": "Tỉnh ủy Bến Tre",
    "role": "chair",
    "source_quote": "Bí thư Tỉnh ủy Võ Thành Hạo chủ trì hội nghị.",
    "id": 1,
    "person_name": "Võ Thành Hạo",
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

ASSIGNEE: dict[str, Any] = {
    "id": 3,
    "slug": "ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh-lead",
    "directive_id": 3,
    "role": "lead",
    "person_id": None,
    "person_name": None,
    "organization": "từng đơn vị, địa phương",
    "source_quote": "Các vấn đề nào chưa rõ, chưa cập nhật, còn vướng mắc thì từng đơn vị, địa phương đăng ký làm việc với các sở, ngành để được hướng dẫn, tháo gỡ.",
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

ASSIGNEE_COORDINATING: dict[str, Any] = {
    **ASSIGNEE,
    "id": 4,
    "slug": "ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh-coordinating",
    "role": "coordinating",
    "organization": "các sở, ngành",
}

DIRECTIVE: dict[str, Any] = {
    "slug": "ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh",
    "meeting_id": 1,
    "issued_by": 1,
    "text": "Các vấn đề nào chưa rõ, chưa cập nhật, còn vướng mắc thì từng đơn vị, địa phương đăng ký làm việc với các sở, ngành để được hướng dẫn, tháo gỡ.",
    "addressees": ["từng đơn vị, địa phương"],
    "status": "open",
    "due_date": None,
    "source_quote": "Các vấn đề nào chưa rõ, chưa cập nhật, còn vướng mắc thì từng đơn vị, địa phương đăng ký làm việc với các sở, ngành để được hướng dẫn, tháo gỡ.",
    "id": 3,
    "issued_by_person_id": 1,
    "issued_by_name": "Võ Thành Hạo",
    "done_on": None,
    "progress": "in_progress_on_time",
    "assignees": [ASSIGNEE, ASSIGNEE_COORDINATING],
    "addresses": [3],
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

DIRECTIVE_EVENT: dict[str, Any] = {
    "id": 1,
    "directive_id": 3,
    "from_status": "open",
    "to_status": "in_progress",
    "note": "việc triển khai quán triệt, thực hiện Nghị quyết số 18, 19 Hội nghị Trung ương 6 (khóa XII), Chương trình hành động số 28, 29 của Tỉnh ủy được các cấp ủy, tổ chức đảng thực hiện nghiêm túc",
    "made_by": "writer",
    "at": TIMESTAMP,
}

SHORTCOMING: dict[str, Any] = {
    "slug": "ben-tre-2018-03-20-nq18-19-nhan-thuc-chua-cao",
    "meeting_id": 1,
    "text": "sự thống nhất nhận thức và hành động trong nội bộ bước đầu chưa cao",
    "concerns": ["nội bộ"],
    "source_quote": "Tuy nhiên, sự thống nhất nhận thức và hành động trong nội bộ bước đầu chưa cao.",
    "id": 1,
    "addressed_by": [],
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

FINDING: dict[str, Any] = {
    "slug": "ben-tre-2018-03-20-nq18-19-thuc-hien-nghiem-tuc",
    "meeting_id": 1,
    "text": "việc triển khai quán triệt, thực hiện Nghị quyết số 18, 19 Hội nghị Trung ương 6 (khóa XII), Chương trình hành động số 28, 29 của Tỉnh ủy được các cấp ủy, tổ chức đảng thực hiện nghiêm túc",
    "source_quote": "Theo báo cáo, việc triển khai quán triệt, thực hiện Nghị quyết số 18, 19 Hội nghị Trung ương 6 (khóa XII), Chương trình hành động số 28, 29 của Tỉnh ủy được các cấp ủy, tổ chức đảng thực hiện nghiêm túc.",
    "id": 1,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

DOCUMENT: dict[str, Any] = {
    "slug": "nq-18-tw-khoa-xii",
    "kind": "resolution",
    "number": "18",
    "title": "Nghị quyết số 18 của Hội nghị lần thứ 6 Ban Chấp hành Trung ương (khóa XII)",
    "issuer": "Ban Chấp hành Trung ương (khóa XII)",
    "issued_on": None,
    "id": 1,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

CITATION: dict[str, Any] = {
    "slug": "nq-18-tw-khoa-xii",
    "kind": "resolution",
    "number": "18",
    "title": "Nghị quyết số 18 của Hội nghị lần thứ 6 Ban Chấp hành Trung ương (khóa XII)",
    "issuer": "Ban Chấp hành Trung ương (khóa XII)",
    "issued_on": None,
    "id": 1,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "meeting_id": 1,
    "source_quote": "Ngày 20-3-2018, Tỉnh ủy tổ chức Hội nghị trực tuyến với các huyện ủy, Thành ủy đánh giá tình hình triển khai quán triệt và tổ chức thực hiện Nghị quyết số 18, 19 của Hội nghị lần thứ 6 Ban Chấp hành Trung ương (khóa XII).",
}

SEARCH_HIT: dict[str, Any] = {
    "type": "directive",
    "id": 3,
    "meeting_id": 1,
    "title": "Các vấn đề nào chưa rõ, chưa cập nhật, còn vướng mắc thì từng đơn vị, địa phương đăng ký làm việc với các sở, ngành để được hướng dẫn, tháo gỡ.",
    "snippet": "…chưa cập nhật, còn vướng mắc thì từng đơn vị, địa phương «đăng» «ký» làm việc với các sở, ngành để được hướng dẫn, tháo gỡ.\ntừng đơn vị, địa phương",
    "url": "/api/v1/directives/3",
    "score": 1.156981,
}

MEETING_DETAIL: dict[str, Any] = {
    **MEETING,
    "participants": [PARTICIPANT],
    "directives": [DIRECTIVE],
    "shortcomings": [SHORTCOMING],
    "findings": [FINDING],
    "documents": [CITATION],
}

CHANGE: dict[str, Any] = {
    "seq": 1,
    "collection": "people",
    "record_id": 1,
    "record_slug": "vo-thanh-hao",
    "action": "create",
    "actor": "seed:seed.json",
    "at": TIMESTAMP,
    "data": PERSON,
}

CHANGE_PAGE: dict[str, Any] = {
    "items": [CHANGE],
    "total": 1,
    "next_cursor": None,
    "last_seq": 1,
}

# A later meeting (the one MEETING_CREATE makes, dated later) reviewing directive 3; the
# outcome is a text of the seed (the report's own finding on how the resolutions were carried out).
REVIEW: dict[str, Any] = {
    "id": 1,
    "meeting_id": 2,
    "directive_id": 3,
    "outcome": FINDING["text"],
    "source_quote": None,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}

STATS: dict[str, Any] = {
    "totals": {
        "meetings": 1,
        "directives": 10,
        "shortcomings": 5,
        "shortcomings_unaddressed": 1,
        "findings": 4,
        "assignees": 4,
        "reviews": 0,
    },
    "directives_by_status": {"cancelled": 0, "done": 0, "in_progress": 0, "open": 10},
    "directives_by_progress": {"done_late": 0, "done_on_time": 0, "in_progress_on_time": 10, "overdue": 0},
    "directives_by_assignee": [
        {
            "kind": "organization",
            "name": "Các huyện ủy, thành ủy",
            "person_id": None,
            "role": "lead",
            "directives": 1,
        },
        {
            "kind": "organization",
            "name": "các sở, ngành",
            "person_id": None,
            "role": "coordinating",
            "directives": 1,
        },
        {
            "kind": "organization",
            "name": "từng cấp ủy, tổ chức đảng",
            "person_id": None,
            "role": "lead",
            "directives": 1,
        },
        {
            "kind": "organization",
            "name": "từng đơn vị, địa phương",
            "person_id": None,
            "role": "lead",
            "directives": 1,
        },
    ],
    "directives_by_assignee_total": 4,
    "meetings_by_month": [{"month": "2018-03", "meetings": 1}],
}
