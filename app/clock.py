"""The date the follow-up of directives is judged against: today in Asia/Ho_Chi_Minh.

Tests set it with `monkeypatch.setattr(app.clock, "today", lambda: date(...))`;
every caller looks it up through the module (`clock.today()`), so that works.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

ZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()
