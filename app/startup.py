"""What happens before the first request: schema, then the seed if the database is empty."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from app.config import Settings
from app.seed_schema import open_seed
from app.seeding import create_schema, is_empty, load_seed

log = logging.getLogger("app.startup")


def prepare_database(engine: Engine, settings: Settings) -> None:
    create_schema(engine)
    if settings.load_seed_on_start and is_empty(engine):
        with open_seed(settings.seed_file) as seed:  # streamed; any problem rolls the load back
            report = load_seed(engine, seed, only_if_empty=True, file=settings.seed_file)
        log.info("loaded %s: %s", settings.seed_file, report.summary())
