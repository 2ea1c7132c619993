"""Command line: python -m app seed {check,load,init,schema} ... | keys {create,list,revoke} ...
| changes replay --from URL|FILE"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from app.config import get_settings
from app.seed_schema import SeedError, json_schema, read_seed


def _seed_check(args: argparse.Namespace) -> int:
    seed = read_seed(args.file)
    m = seed.meetings
    print(
        f"{args.file}: valid: {len(seed.people)} people, {len(seed.documents)} documents, "
        f"{len(m)} meetings, {sum(len(x.directives) for x in m)} directives, "
        f"{sum(len(x.shortcomings) for x in m)} shortcomings"
    )
    return 0


def _seed_load(args: argparse.Namespace) -> int:
    from app.db import create_db_engine
    from app.seeding import create_schema, load_seed

    seed = read_seed(args.file)  # validated in full before the database is opened
    engine = create_db_engine(get_settings())
    create_schema(engine)
    report = load_seed(engine, seed, file=args.file)
    print(f"{args.file}: {report.summary()}")
    return 0


def _seed_init(_args: argparse.Namespace) -> int:
    from app.db import create_db_engine
    from app.startup import prepare_database

    settings = get_settings()
    prepare_database(create_db_engine(settings), settings)
    print(f"database ready ({settings.database_url.split('@')[-1]})")
    return 0


def _seed_schema(_args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from app.generate import write_seed

    if args.output == Path("-"):
        write_seed(sys.stdout, args.meetings, args.seed)
        return 0
    with args.output.open("w", encoding="utf-8", newline="\n") as out:
        write_seed(out, args.meetings, args.seed)
    print(f"{args.output}: {args.meetings} synthetic meetings (seed {args.seed})", file=sys.stderr)
    return 0


def _keys_engine() -> Any:
    from app.db import create_db_engine
    from app.seeding import create_schema

    engine = create_db_engine(get_settings())
    create_schema(engine)
    return engine


def _keys_create(args: argparse.Namespace) -> int:
    from app.auth import create_key
    from app.models.apikey import Scope

    new = create_key(_keys_engine(), args.name, Scope(args.scope))
    print(f"created API key {new.id} ({new.name}, scope {new.scope.value}, prefix {new.prefix})")
    print("the key is shown only this once; store it now:")
    print(new.key)
    return 0


def _keys_list(_args: argparse.Namespace) -> int:
    from app.auth import list_keys

    rows = list_keys(_keys_engine())
    print("id\tname\tscope\tprefix\tcreated_at\trevoked_at")
    for r in rows:
        revoked = r["revoked_at"].isoformat() if r["revoked_at"] else "-"
        print(
            f"{r['id']}\t{r['name']}\t{r['scope']}\t{r['prefix']}\t{r['created_at'].isoformat()}\t{revoked}"
        )
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from app.auth import revoke_key
    from app.errors import NotFound

    try:
        when = revoke_key(_keys_engine(), args.id)
    except NotFound as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    print(f"API key {args.id} revoked at {when.isoformat()}")
    return 0


def _changes_replay(args: argparse.Namespace) -> int:
    from app.db import create_db_engine
    from app.replay import ReplayError, local_last_seq, read_source, replay
    from app.seeding import create_schema, is_empty

    settings = get_settings()
    engine = create_db_engine(settings)
    create_schema(engine)
    since = local_last_seq(engine)
    if since == 0 and not is_empty(engine):
        print(
            "this database has records but no change feed: replay into an empty one "
            "(LOAD_SEED_ON_START=false keeps the server from seeding it)",
            file=sys.stderr,
        )
        return 1
    try:
        report = replay(engine, read_source(args.source, since), batch=args.batch)
    except (ReplayError, OSError, ValueError) as exc:
        print(f"replay stopped: {exc}", file=sys.stderr)
        return 1
    print(
        f"applied {report.applied} change(s) after seq {since}"
        + (f", skipped {report.skipped} already here" if report.skipped else "")
        + f"; last seq {report.last_seq}"
    )
    return 0


def _name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200 or "\x00" in value:
        raise argparse.ArgumentTypeError("a name of 1 to 200 characters is needed")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Meeting records API tools")
    sub = parser.add_subparsers(dest="group", required=True)
    seed = sub.add_parser("seed", help="seed files").add_subparsers(dest="command", required=True)
    check = seed.add_parser("check", help="validate a seed file without touching any database")
    check.add_argument("file", type=Path)
    check.set_defaults(func=_seed_check)
    load = seed.add_parser("load", help="load a seed file (records already present, by slug, are kept)")
    load.add_argument("file", type=Path)
    load.set_defaults(func=_seed_load)
    init = seed.add_parser("init", help="create the schema and load SEED_FILE if the database is empty")
    init.set_defaults(func=_seed_init)
    schema = seed.add_parser("schema", help="print the JSON Schema of seed files")
    schema.set_defaults(func=_seed_schema)
    gen = sub.add_parser("generate", help="write a seed file of synthetic meetings (for load tests)")
    gen.add_argument("--meetings", type=int, default=100, help="number of meetings (default 100)")
    gen.add_argument("--seed", type=int, default=0, help="random seed: same seed, same bytes")
    gen.add_argument("-o", "--output", type=Path, default=Path("-"), help="output file (default stdout)")
    gen.set_defaults(func=_generate)
    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="command", required=True)
    create = keys.add_parser("create", help="create an API key and print it (once, on the last line)")
    create.add_argument("--name", required=True, type=_name)
    create.add_argument("--scope", required=True, choices=["read", "write", "admin"])
    create.set_defaults(func=_keys_create)
    keys.add_parser("list", help="list API keys (never their secrets)").set_defaults(func=_keys_list)
    revoke = keys.add_parser("revoke", help="revoke an API key")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_keys_revoke)
    feed = sub.add_parser("changes", help="the change feed").add_subparsers(dest="command", required=True)
    rep_ = feed.add_parser(
        "replay",
        help="apply a change feed to this database (DATABASE_URL): empty, or a copy made so before, "
        "which resumes after the last entry it has",
    )
    rep_.add_argument(
        "--from",
        dest="source",
        required=True,
        help="the API's base URL (http://host:port), or a file of entries (NDJSON, or JSON pages)",
    )
    rep_.add_argument("--batch", type=int, default=500, help="entries per transaction (default 500)")
    rep_.set_defaults(func=_changes_replay)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
    except SeedError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
