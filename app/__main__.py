"""Command line: python -m app seed {check,load,export,init,schema} ... | keys {create,list,revoke} ...
| changes replay --from URL|FILE"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from app.config import get_settings
from app.seed_schema import SeedError, SeedStream, json_schema, open_seed


def _seed_check(args: argparse.Namespace) -> int:
    counts = dict.fromkeys(("people", "documents", "meetings", "directives", "shortcomings"), 0)
    with open_seed(args.file) as seed:  # streamed: record by record
        for kind, record in seed.records():
            counts[kind] += 1
            if kind == "meetings":
                counts["directives"] += len(record.directives)
                counts["shortcomings"] += len(record.shortcomings)
        seed.finish()
    print(f"{args.file}: valid: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def _seed_load(args: argparse.Namespace) -> int:
    from app.db import create_db_engine
    from app.seeding import create_schema, load_seed

    with open_seed(args.file) as seed:  # streamed; a problem anywhere rolls the whole load back
        engine = create_db_engine(get_settings())
        create_schema(engine)
        show = args.progress or (sys.stderr.isatty() and seed.size >= PROGRESS_MIN_BYTES)
        with progress_bar(seed, enabled=show, desc=str(args.file)) as step:
            report = load_seed(
                engine, seed, file=args.file, dry_run=args.dry_run, progress=step, bulk_journal=True
            )
    if args.dry_run:
        print(f"{args.file}: dry run, nothing written: {report.summary()}")
        print(report.table())
        return 0
    print(f"{args.file}: {report.summary()}")
    return 0


PROGRESS_MIN_BYTES = 2_000_000  # a bar on a terminal only for files this large (or with --progress)


@contextlib.contextmanager
def progress_bar(seed: SeedStream, *, enabled: bool, desc: str) -> Iterator[Callable[[int], None] | None]:
    """A tqdm bar on stderr over the bytes of the file read so far, with the meetings loaded; or nothing.

    (The number of meetings of a streamed file is known only at its end.)
    """
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=seed.size, desc=desc, unit="B", unit_scale=True, file=sys.stderr, dynamic_ncols=True
    ) as bar:
        meetings = 0

        def step(n: int) -> None:
            nonlocal meetings
            meetings += n
            if meetings % 100 == 0:
                bar.set_postfix_str(f"{meetings} meetings", refresh=False)
                bar.update(seed.position() - bar.n)

        yield step
        bar.set_postfix_str(f"{meetings} meetings", refresh=False)
        bar.update(seed.size - bar.n)


def _seed_export(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from app.db import create_db_engine
    from app.export import export_chunks
    from app.seeding import create_schema

    engine = create_db_engine(get_settings())
    create_schema(engine)
    if args.output == Path("-"):
        for chunk in export_chunks(engine):
            sys.stdout.write(chunk)
        return 0
    # Written next to the target and renamed: a failed export leaves no half-written file.
    target = args.output.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for chunk in export_chunks(engine):
                out.write(chunk)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the export is a plain file
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"{args.output}: exported the database", file=sys.stderr)
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
    load = seed.add_parser(
        "load",
        help="merge a seed file into the database by slug",
        description="Merge a seed file into the database (empty or not), matching records by slug: "
        "records new to the database are created; records it has whose fields differ from the file's "
        "are updated (the file wins); the others are left untouched. Records the database has and the "
        "file does not are KEPT (nothing is deleted). One transaction: on any error nothing is written. "
        "Loading the same file again changes nothing.",
    )
    load.add_argument("file", type=Path)
    load.add_argument(
        "--dry-run",
        action="store_true",
        help="report what would be created, updated and left unchanged per collection; write nothing",
    )
    load.add_argument(
        "--progress",
        action="store_true",
        help=f"show a progress bar on stderr (default: only on a terminal, for files of "
        f"{PROGRESS_MIN_BYTES // 1_000_000}+ MB)",
    )
    load.set_defaults(func=_seed_load)
    export = seed.add_parser(
        "export", help="write the whole database as a seed file (records refer to each other by slug)"
    )
    export.add_argument("-o", "--output", type=Path, default=Path("-"), help="output file (default stdout)")
    export.set_defaults(func=_seed_export)
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
