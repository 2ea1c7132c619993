"""Synthetic seed files: many realistic Vietnamese meetings, for load and benchmark tests.

`python -m app generate --meetings N --seed S -o FILE` writes a seed-format file
(see app/seed_schema.py) that `python -m app seed check` accepts. The output
depends only on N and S (one `random.Random(S)` drives every choice), so the
same arguments always give the same bytes.

Each meeting is built as a short synthetic "article": a list of sentences, one
per record. Every record's `source_quote` is its own sentence of that article
and every extracted text (a directive's `text`, a shortcoming's `text`, ...)
lies inside its quote, as in a real seed. The file is written incrementally:
people, then documents, then one meeting at a time, so memory stays flat
whatever N is.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from app.seed_schema import SCHEMA_VERSION

FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm", "Mai",
    "Tạ", "Châu", "Lương", "Cao", "Quách", "Đoàn", "Thái", "Hà", "Kiều", "Từ",
)  # fmt: skip
MIDDLE_NAMES_MALE = (
    "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Ngọc", "Công", "Xuân", "Duy",
    "Quang", "Trọng", "Hoàng", "Anh", "Thành", "Tấn", "Bá", "Đình",
)  # fmt: skip
MIDDLE_NAMES_FEMALE = (
    "Thị", "Ngọc", "Thanh", "Thu", "Hồng", "Kim", "Mỹ", "Thúy", "Bích", "Hoàng",
    "Phương", "Diệu",
)  # fmt: skip
GIVEN_NAMES_MALE = (
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Huy", "Khải", "Khoa",
    "Lâm", "Long", "Mạnh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tâm",
    "Thắng", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Việt", "Vinh", "Hạo", "Mãi",
)  # fmt: skip
GIVEN_NAMES_FEMALE = (
    "Anh", "Bích", "Châu", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan",
    "Liên", "Linh", "Loan", "Mai", "Nga", "Ngân", "Nhung", "Oanh", "Phượng", "Thảo",
    "Trang", "Tuyết", "Vân", "Yến",
)  # fmt: skip

PROVINCES = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh",
    "Bến Tre", "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau",
    "Cao Bằng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp",
    "Gia Lai", "Hà Giang", "Hà Nam", "Hà Tĩnh", "Hải Dương", "Hậu Giang",
    "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu",
    "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An", "Nam Định", "Nghệ An",
    "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam",
    "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh",
    "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Tiền Giang", "Trà Vinh",
    "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái", "Hà Nội", "Hải Phòng",
    "Đà Nẵng", "Cần Thơ", "Thành phố Hồ Chí Minh",
)  # fmt: skip
assert len(PROVINCES) == 63

DISTRICTS = (
    "Châu Thành", "Mỏ Cày Nam", "Giồng Trôm", "Ba Tri", "Thạnh Phú", "Bình Đại",
    "Chợ Lách", "Phú Tân", "Tân Phú", "Long Hồ", "Cái Bè", "Hòa Thành", "Tam Nông",
    "Đức Trọng", "Yên Lạc", "Thuận Thành",
)  # fmt: skip

# (office, organisation pattern): {p} is the province, {d} a district.
OFFICES = (
    ("Bí thư Tỉnh ủy", "Tỉnh ủy {p}"),
    ("Phó bí thư Thường trực Tỉnh ủy", "Tỉnh ủy {p}"),
    ("Phó bí thư Tỉnh ủy", "Tỉnh ủy {p}"),
    ("Chủ tịch UBND tỉnh", "UBND tỉnh {p}"),
    ("Phó chủ tịch UBND tỉnh", "UBND tỉnh {p}"),
    ("Chủ tịch HĐND tỉnh", "HĐND tỉnh {p}"),
    ("Trưởng Ban Tổ chức Tỉnh ủy", "Ban Tổ chức Tỉnh ủy {p}"),
    ("Trưởng Ban Tuyên giáo Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy {p}"),
    ("Chủ nhiệm Ủy ban Kiểm tra Tỉnh ủy", "Ủy ban Kiểm tra Tỉnh ủy {p}"),
    ("Giám đốc Sở Nội vụ", "Sở Nội vụ tỉnh {p}"),
    ("Giám đốc Sở Tài chính", "Sở Tài chính tỉnh {p}"),
    ("Giám đốc Sở Kế hoạch và Đầu tư", "Sở Kế hoạch và Đầu tư tỉnh {p}"),
    ("Giám đốc Sở Nông nghiệp và Phát triển nông thôn", "Sở Nông nghiệp và Phát triển nông thôn tỉnh {p}"),
    ("Bí thư Huyện ủy", "Huyện ủy {d}"),
    ("Chủ tịch UBND huyện", "UBND huyện {d}"),
    ("Chủ tịch Ủy ban MTTQ Việt Nam tỉnh", "Ủy ban MTTQ Việt Nam tỉnh {p}"),
)
CHAIR_OFFICES = OFFICES[:5]

MEETING_KINDS = (
    "Hội nghị", "Hội nghị trực tuyến", "Phiên họp", "Buổi làm việc", "Hội nghị sơ kết",
    "Hội nghị tổng kết", "Hội nghị giao ban",
)  # fmt: skip
TOPICS = (
    "công tác cải cách hành chính",
    "sắp xếp tổ chức bộ máy tinh gọn, hoạt động hiệu lực, hiệu quả",
    "chương trình mục tiêu quốc gia xây dựng nông thôn mới",
    "giải ngân vốn đầu tư công",
    "chuyển đổi số và phát triển chính quyền số",
    "phòng, chống tham nhũng, lãng phí",
    "công tác phòng, chống thiên tai và ứng phó biến đổi khí hậu",
    "phát triển kinh tế - xã hội sáu tháng đầu năm",
    "công tác xây dựng Đảng và hệ thống chính trị",
    "công tác bảo vệ môi trường và quản lý tài nguyên",
    "công tác giảm nghèo bền vững",
    "thu hút đầu tư và cải thiện môi trường kinh doanh",
    "công tác bồi thường, giải phóng mặt bằng",
    "bảo đảm an ninh trật tự, an toàn giao thông",
    "phát triển nguồn nhân lực chất lượng cao",
    "công tác tiếp công dân và giải quyết khiếu nại, tố cáo",
)  # fmt: skip
ADDRESSEES = (
    "các sở, ban, ngành tỉnh", "UBND các huyện, thành phố", "các huyện ủy, thành ủy",
    "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Nội vụ", "Sở Tài nguyên và Môi trường",
    "Sở Thông tin và Truyền thông", "Ban Tuyên giáo Tỉnh ủy", "Ủy ban MTTQ Việt Nam tỉnh",
    "các cấp ủy, tổ chức đảng", "người đứng đầu các cơ quan, đơn vị", "Công an tỉnh",
    "đảng ủy các xã, phường, thị trấn", "Văn phòng UBND tỉnh",
)  # fmt: skip
DIRECTIVE_VERBS = (
    "khẩn trương", "tập trung", "chủ động", "quyết liệt", "tiếp tục", "nghiêm túc", "kịp thời",
)  # fmt: skip
DIRECTIVE_ACTIONS = (
    "rà soát, hoàn thiện kế hoạch triển khai {topic}",
    "xây dựng đề án về {topic} trình Ban Thường vụ Tỉnh ủy",
    "tổ chức kiểm tra, giám sát việc thực hiện {topic}",
    "báo cáo kết quả thực hiện {topic} trước ngày {due}",
    "tham mưu ban hành chỉ thị về {topic}",
    "đẩy mạnh tuyên truyền, nâng cao nhận thức về {topic}",
    "tháo gỡ khó khăn, vướng mắc trong {topic}",
    "phân công cán bộ theo dõi, đôn đốc {topic}",
    "bố trí đủ nguồn lực cho {topic}",
    "cụ thể hóa {document} bằng chương trình, kế hoạch của cấp mình",
)  # fmt: skip
SPEAKER_VERBS = ("yêu cầu", "đề nghị", "chỉ đạo", "giao")
SHORTCOMING_SUBJECTS = (
    "Một số cấp ủy, chính quyền", "Một số địa phương", "Một số sở, ngành",
    "Công tác phối hợp giữa các cơ quan", "Việc triển khai ở cơ sở", "Người đứng đầu một số đơn vị",
)  # fmt: skip
SHORTCOMING_PREDICATES = (
    "còn chậm trong {topic}",
    "chưa quyết liệt, còn trông chờ hướng dẫn của cấp trên về {topic}",
    "chưa bám sát thực tiễn khi triển khai {topic}",
    "còn lúng túng, thiếu đồng bộ trong {topic}",
    "chưa quan tâm đúng mức đến {topic}",
    "chưa bố trí đủ nguồn lực cho {topic}",
)  # fmt: skip
SHORTCOMING_LEADS = ("Tuy nhiên,", "Bên cạnh đó,", "Hội nghị cũng chỉ ra:", "Theo báo cáo,")
FINDING_PREDICATES = (
    "việc triển khai {topic} được các cấp ủy, tổ chức đảng thực hiện nghiêm túc",
    "{topic} đạt nhiều kết quả quan trọng, vượt {pct}% kế hoạch năm",
    "tỉnh đã hoàn thành {pct}% chỉ tiêu về {topic}",
    "nhận thức của cán bộ, đảng viên về {topic} có chuyển biến rõ nét",
    "công tác phối hợp trong {topic} ngày càng chặt chẽ, hiệu quả",
)  # fmt: skip
FINDING_LEADS = ("Theo báo cáo,", "Qua đánh giá,", "Hội nghị ghi nhận", "Nhìn chung,")
PUBLISHERS = ("BDK.VN", "Báo Nhân Dân", "Cổng thông tin điện tử tỉnh", "Báo Tuổi Trẻ", "Báo Lao Động")

# kind -> (Vietnamese name, number code, issuer patterns with their code suffix)
DOCUMENT_KINDS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "resolution": ("Nghị quyết", "NQ", (("Tỉnh ủy {p}", "TU"), ("HĐND tỉnh {p}", "HĐND"))),
    "action_programme": ("Chương trình hành động", "CTr", (("Tỉnh ủy {p}", "TU"),)),
    "plan": ("Kế hoạch", "KH", (("UBND tỉnh {p}", "UBND"), ("Tỉnh ủy {p}", "TU"))),
    "decision": ("Quyết định", "QĐ", (("UBND tỉnh {p}", "UBND"),)),
    "directive": ("Chỉ thị", "CT", (("Tỉnh ủy {p}", "TU"), ("UBND tỉnh {p}", "UBND"))),
    "project": ("Đề án", "ĐA", (("Tỉnh ủy {p}", "TU"),)),
}
REVIEW_OUTCOMES = (
    "đã hoàn thành đúng tiến độ",
    "đang triển khai, cần đẩy nhanh tiến độ",
    "chậm so với yêu cầu, đề nghị khẩn trương khắc phục",
    "cơ bản hoàn thành, cần tiếp tục theo dõi",
)  # fmt: skip
DIRECTIVE_STATUSES = ("open", "in_progress", "done", "cancelled")
DIRECTIVE_STATUS_WEIGHTS = (50, 25, 20, 5)
TZ = dt.timezone(dt.timedelta(hours=7))
FIRST_DAY = dt.date(2015, 1, 1)
DAYS = 11 * 365


def slugify(text: str) -> str:
    """ASCII slug of a Vietnamese text: 'Đặng Thị Hoa' -> 'dang-thi-hoa'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_ = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    out, dash = [], False
    for c in ascii_.lower():
        if c.isascii() and c.isalnum():
            out.append(c)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


@dataclass(frozen=True)
class Person:
    slug: str
    full_name: str


@dataclass(frozen=True)
class Document:
    slug: str
    kind: str
    number: str
    title: str
    issuer: str
    issued_on: dt.date


class Generator:
    """Builds people, documents and meetings from one random stream."""

    def __init__(self, meetings: int, seed: int) -> None:
        self.n_meetings = meetings
        self.rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
        self.people = self._people(max(40, meetings * 2))
        self.documents = self._documents(max(20, meetings // 2))
        # (date, slug, text) of recent directives, that later-dated meetings may review.
        self.issued: list[tuple[dt.date, str, str]] = []

    # -- shared records ---------------------------------------------------

    def _people(self, n: int) -> list[Person]:
        rng = self.rng
        out = []
        for i in range(n):
            female = rng.random() < 0.35
            middle: tuple[str, ...] = MIDDLE_NAMES_FEMALE if female else MIDDLE_NAMES_MALE
            given: tuple[str, ...] = GIVEN_NAMES_FEMALE if female else GIVEN_NAMES_MALE
            parts = [rng.choice(FAMILY_NAMES), rng.choice(middle)]
            if rng.random() < 0.25:
                parts.append(rng.choice(middle))
            parts.append(rng.choice(given))
            name = " ".join(dict.fromkeys(parts))  # no repeated part ("Hoàng Hoàng")
            out.append(Person(f"{slugify(name)}-{i + 1}", name))
        return out

    def _documents(self, n: int) -> list[Document]:
        rng = self.rng
        out = []
        kinds = list(DOCUMENT_KINDS)
        for i in range(n):
            kind = rng.choice(kinds)
            name, code, issuers = DOCUMENT_KINDS[kind]
            issuer_pattern, suffix = rng.choice(issuers)
            province = rng.choice(PROVINCES)
            issuer = issuer_pattern.format(p=province)
            issued = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
            number = f"{rng.randint(1, 250):02d}-{code}/{suffix}"
            title = f"{name} số {number} của {issuer} về {rng.choice(TOPICS)}"
            slug = f"{slugify(number)}-{slugify(province)}-{issued.year}-{i + 1}"
            out.append(Document(slug, kind, number, title, issuer, issued))
        return out

    # -- meetings ---------------------------------------------------------

    def meeting(self, index: int) -> dict[str, Any]:
        rng = self.rng
        province = rng.choice(PROVINCES)
        district = rng.choice(DISTRICTS)
        topic = rng.choice(TOPICS)
        kind = rng.choice(MEETING_KINDS)
        date = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        slug = f"{slugify(province)}-{date.isoformat()}-{index + 1}"
        fmt = rng.choice(("in_person", "online", "hybrid"))
        organizer = rng.choice(("Tỉnh ủy {p}", "UBND tỉnh {p}", "HĐND tỉnh {p}")).format(p=province)
        title = f"{kind} về {topic} tại {province}"
        sentences: list[str] = []  # the synthetic article, one record per sentence

        def say(sentence: str) -> str:
            sentences.append(sentence)
            return sentence

        summary = say(
            f"Ngày {date.day}-{date.month}-{date.year}, {organizer} tổ chức {kind.lower()} "
            f"đánh giá tình hình triển khai {topic}."
        )
        # Participants: a chair, then attendees with distinct people.
        people = rng.sample(self.people, rng.randint(3, 8))
        participants: list[dict[str, Any]] = []
        for j, person in enumerate(people):
            office, org = CHAIR_OFFICES[rng.randrange(len(CHAIR_OFFICES))] if j == 0 else rng.choice(OFFICES)
            role = "chair" if j == 0 else rng.choice(("attendee", "attendee", "speaker", "rapporteur"))
            if role == "chair":
                quote = f"{office} {person.full_name} chủ trì {kind.lower()}."
            elif role == "speaker":
                quote = f"Phát biểu tại {kind.lower()}, {office} {person.full_name} nhấn mạnh về {topic}."
            elif role == "rapporteur":
                quote = f"{office} {person.full_name} trình bày báo cáo về {topic}."
            else:
                quote = f"Tham dự có {office} {person.full_name}."
            participants.append(
                {
                    "slug": f"{slug}-{person.slug}",
                    "person": person.slug,
                    "title": office,
                    "organization": org.format(p=province, d=district),
                    "role": role,
                    "source_quote": say(quote),
                }
            )
        chair = participants[0]
        names = {p["slug"]: person.full_name for p, person in zip(participants, people, strict=True)}
        issuers = [p for p in participants if p["role"] in ("chair", "speaker")]
        cited = rng.sample(self.documents, rng.randint(1, 3))

        # Findings and shortcomings first (as an article reports them), then directives.
        findings = []
        for j in range(rng.randint(1, 4)):
            text = rng.choice(FINDING_PREDICATES).format(topic=rng.choice(TOPICS), pct=rng.randint(80, 130))
            quote = say(f"{rng.choice(FINDING_LEADS)} {text}.")
            findings.append({"slug": f"{slug}-kq-{j + 1}", "text": text, "source_quote": quote})
        shortcomings = []
        for j in range(rng.randint(1, 4)):
            subject = rng.choice(SHORTCOMING_SUBJECTS)
            text = f"{subject} {rng.choice(SHORTCOMING_PREDICATES).format(topic=rng.choice(TOPICS))}"
            lead = rng.choice(SHORTCOMING_LEADS)
            quote = say(f"{lead} {subject[0].lower()}{text[1:]}.")
            shortcomings.append(
                {
                    "slug": f"{slug}-hc-{j + 1}",
                    "text": quote[len(lead) + 1 : -1],
                    "concerns": [subject],
                    "source_quote": quote,
                }
            )
        directives = []
        for j in range(rng.randint(2, 10)):
            issuer = rng.choice(issuers) if rng.random() < 0.4 else chair
            addressees = rng.sample(ADDRESSEES, rng.randint(1, 2))
            due: dt.date | None = None
            if rng.random() < 0.5:
                due = date + dt.timedelta(days=rng.randint(14, 365))
            action = rng.choice(DIRECTIVE_ACTIONS).format(
                topic=rng.choice(TOPICS),
                due=f"{due.day}-{due.month}-{due.year}" if due else "31-12",
                document=f"{DOCUMENT_KINDS[cited[0].kind][0]} số {cited[0].number}",
            )
            text = f"{' và '.join(addressees)} {rng.choice(DIRECTIVE_VERBS)} {action}"
            verb = rng.choice(SPEAKER_VERBS)
            quote = say(f"{issuer['title']} {names[issuer['slug']]} {verb} {text}.")
            # The first body named leads, a second coordinates; now and then a participant monitors.
            assignees: list[dict[str, Any]] = [
                {"role": role, "organization": org, "source_quote": quote}
                for role, org in zip(("lead", "coordinating"), addressees, strict=False)
            ]
            if rng.random() < 0.2:
                monitor = rng.choice(participants)
                assignees.append({"role": "monitoring", "person": monitor["person"]})
            answered = [s["slug"] for s in shortcomings if rng.random() < 0.3]
            directives.append(
                {
                    "slug": f"{slug}-cd-{j + 1}",
                    "issued_by": issuer["slug"],
                    "text": text,
                    "addressees": addressees,
                    "status": rng.choices(DIRECTIVE_STATUSES, DIRECTIVE_STATUS_WEIGHTS)[0],
                    "due_date": due.isoformat() if due else None,
                    "source_quote": quote,
                    "assignees": assignees,
                    "addresses": answered,
                }
            )
        # Now and then, this meeting reviews a directive of an earlier-dated one.
        reviews = []
        earlier = [d for d in self.issued if d[0] < date]
        for _, directive_slug, directive_text in rng.sample(earlier, min(len(earlier), rng.randint(0, 2))):
            outcome = rng.choice(REVIEW_OUTCOMES)
            quote = say(f"Về việc {directive_text}, hội nghị đánh giá {outcome}.")
            reviews.append({"directive": directive_slug, "outcome": outcome, "source_quote": quote})
        self.issued.extend((date, d["slug"], d["text"]) for d in directives)
        del self.issued[:-200]  # memory stays flat
        documents = []
        for doc in cited:
            name = DOCUMENT_KINDS[doc.kind][0]
            quote = say(f"Hội nghị đã quán triệt {name.lower()} số {doc.number} của {doc.issuer}.")
            documents.append({"document": doc.slug, "source_quote": quote})

        published = dt.datetime.combine(date, dt.time(rng.randint(8, 21), rng.randrange(60)), TZ)
        starts_at = None
        if rng.random() < 0.5:
            starts_at = dt.datetime.combine(date, dt.time(rng.choice((7, 8, 9, 13, 14)), 30), TZ).isoformat()
        points = [province] + (rng.sample(DISTRICTS, rng.randint(1, 4)) if fmt != "in_person" else [])
        return {
            "slug": slug,
            "title": title,
            "date": date.isoformat(),
            "starts_at": starts_at,
            "timezone": "Asia/Ho_Chi_Minh",
            "organizer": organizer,
            "format": fmt,
            "connection_points": points,
            "purpose": f"đánh giá tình hình triển khai {topic}",
            "summary": summary,
            "source": {
                "publisher": rng.choice(PUBLISHERS),
                "title": title,
                "published_at": published.isoformat(),
                "author": rng.choice(self.people).full_name,
                "photographer": None,
                "url": f"https://example.invalid/tin-tuc/{slug}",
                "file": None,
            },
            "participants": participants,
            "directives": directives,
            "shortcomings": shortcomings,
            "findings": findings,
            "documents": documents,
            "reviews": reviews,
        }

    def meetings(self) -> Iterator[dict[str, Any]]:
        for i in range(self.n_meetings):
            yield self.meeting(i)


def _dump(record: Any) -> str:
    return unicodedata.normalize("NFC", json.dumps(record, ensure_ascii=False))


def _write_list(out: TextIO, key: str, records: Iterator[Any], last: bool = False) -> None:
    out.write(f'  "{key}": [')
    for i, record in enumerate(records):
        out.write(("," if i else "") + "\n    " + _dump(record))
    out.write("\n  ]" + ("\n" if last else ",\n"))


def write_seed(out: TextIO, meetings: int, seed: int) -> None:
    """Stream a seed file of `meetings` synthetic meetings to `out`."""
    gen = Generator(meetings, seed)
    out.write("{\n" + f'  "schema_version": {SCHEMA_VERSION},\n')
    _write_list(out, "people", ({"slug": p.slug, "full_name": p.full_name} for p in gen.people))
    _write_list(
        out,
        "documents",
        (
            {
                "slug": d.slug,
                "kind": d.kind,
                "number": d.number,
                "title": d.title,
                "issuer": d.issuer,
                "issued_on": d.issued_on.isoformat(),
            }
            for d in gen.documents
        ),
    )
    _write_list(out, "meetings", gen.meetings(), last=True)
    out.write("}\n")
