"""Command line: ``python -m bot run | chat | ask | check | eval | report | learn ...``.

The only module that reads ``os.environ``, writes to stdout and chooses exit codes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.core.langs import LANGS


def _engine(knowledge_dir: Path, cache_dir: Path | None = None):
    """Load and validate the knowledge base; print its errors and return None when invalid.
    ``cache_dir``: trained models kept between runs (``bot.core.model``)."""
    from bot.core import knowledge
    from bot.core.conversation import Engine

    result = knowledge.load(knowledge_dir, near_duplicates=False)  # warnings are for check
    if result.kb is None:
        print(f"The knowledge base in {knowledge_dir} has errors:", file=sys.stderr)
        for problem in result.errors:
            print(problem, file=sys.stderr)
        return None
    return Engine(result.kb, cache_dir)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core import knowledge

    directory = Path(args.directory) if args.directory else settings.knowledge_dir
    result = knowledge.load(directory)
    for problem in result.problems:
        print(problem)
    if result.errors:
        print(
            f"{len(result.errors)} error(s), {len(result.warnings)} warning(s): the bot would refuse this knowledge base."
        )
        return 1
    count = len(result.kb) if result.kb else 0
    suffix = f", {len(result.warnings)} warning(s)" if result.warnings else ""
    print(f"OK: {count} entries{suffix}.")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings.knowledge_dir, settings.model_cache)
    if engine is None:
        return 1
    if args.jsonl:
        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text = record["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                print(f"line {number}: expected a JSON object with a text field", file=sys.stderr)
                return 2
            lang = record.get("lang") if record.get("lang") in LANGS else None
            print(json.dumps(engine.respond(text, lang).to_dict(), ensure_ascii=False), flush=True)
        return 0
    text = " ".join(args.text)
    if not text.strip():
        print("ask needs a question, for example: python -m bot ask se acabo el parole?", file=sys.stderr)
        return 2
    reply = engine.respond(text, args.lang)
    if args.json:
        print(json.dumps(reply.to_dict(), ensure_ascii=False))
        return 0
    print(f"[{reply.lang}] {reply.action} score={reply.score}" + (f" topic={reply.topic}" if reply.topic else ""))
    if reply.suggestions:
        print("suggestions: " + ", ".join(reply.suggestions))
    from bot.ui.render import Renderer

    renderer = Renderer(engine.kb, operator_name=settings.operator_name, operator_contact=settings.operator_contact)
    print()
    print(renderer.reply(reply, volunteers=settings.volunteer_chat_id is not None).plain)
    return 0


def _knowledge_base(settings: Settings):
    """The knowledge base, or None after printing its errors (for the maintainers' commands)."""
    from bot.core import knowledge

    result = knowledge.load(settings.knowledge_dir, near_duplicates=False)
    if result.kb is None:
        for problem in result.errors:
            print(problem, file=sys.stderr)
    return result.kb


def _below_target(failures: list[str], strict: bool) -> int:
    if failures:
        print()
        print("Below target: " + "; ".join(failures))
    return 1 if (strict and failures) else 0


def cmd_eval_cv(args: argparse.Namespace, settings: Settings) -> int:
    """``eval --cv``: grouped cross-validation over the knowledge base's own phrasings."""
    from bot.core.calibration import cross_validate

    kb = _knowledge_base(settings)
    if kb is None:
        return 1
    report = cross_validate(kb)
    print(report.table())
    if report.confusions:
        print()
        print("Most confused (true topic -> ranked first):")
        for (gold, first), count in report.confusions.most_common(args.confusions):
            print(f"  {count:>4}  {gold} -> {first}")
    if args.show_misses:
        print()
        for held in report.held:
            first = report.classes[int(held.scores.argmax())]
            if first != held.gold:
                print(f"[{held.lang}] want={held.gold} first={first}  {held.text}")
    return _below_target(report.failures(), args.strict)


def cmd_eval_scam(args: argparse.Namespace, settings: Settings) -> int:
    """``eval --scam``: cross-validation of the scam radar on ``knowledge/scam-examples/``."""
    from bot.core.scam_model import cross_validate

    kb = _knowledge_base(settings)
    if kb is None:
        return 1
    report = cross_validate(kb)
    print(report.table())
    if args.show_misses:
        print()
        for judged in report.missed:
            e = judged.example
            print(f"[{e.lang}] missed scam ({e.family}, score {judged.score:.2f}): {e.text}")
        for judged in report.false_alarms:
            e = judged.example
            print(f"[{e.lang}] false alarm by {judged.part(report.thresholds)} ({e.family}): {e.text}")
    return _below_target(report.failures(), args.strict)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.evaluation import evaluate, read_jsonl

    if args.cv:
        return cmd_eval_cv(args, settings)
    if args.scam:
        return cmd_eval_scam(args, settings)
    if not args.file:
        print("eval needs a labelled JSON-lines FILE, or --cv to cross-validate the knowledge base", file=sys.stderr)
        return 2

    engine = _engine(settings.knowledge_dir, settings.model_cache)
    if engine is None:
        return 1
    try:
        with open(args.file, encoding="utf-8") as handle:
            records = read_jsonl(handle)
    except (OSError, ValueError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    report = evaluate(engine, records)
    print(report.table())
    if args.show_misses:
        print()
        for record, reply in report.misses:
            print(
                f"[{record.get('lang')}->{reply.lang}] want={record.get('topic')} got={reply.action}:{reply.topic or ','.join(reply.suggestions)} {reply.score}  {record['text']}"
            )
    return _below_target(report.failures(), args.strict)


def cmd_translations(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core import translations

    kb = _knowledge_base(settings)
    if kb is None:
        return 1
    if args.stamp:
        entry_id, lang = args.stamp
        entry = kb.get(entry_id)
        if entry is None:
            print(f"no entry with the id {entry_id!r}", file=sys.stderr)
            return 2
        langs = [code for code in LANGS if code != entry.source_lang] if lang == "all" else [lang]
        for code in langs:
            if code not in LANGS or not translations.stamp(entry, code):
                print(
                    f"{code!r} is not a translation of {entry_id} (its source language is {entry.source_lang})",
                    file=sys.stderr,
                )
                return 2
            print(f"{entry_id} {code}: marked as translated from the current {entry.source_lang} answer")
        return 0
    found = translations.stale(kb)
    for item in found:
        why = "source answer changed since translation" if item.reason == "changed" else "never marked as reviewed"
        print(f"{item.file}:{item.line}: {item.entry_id} [{item.lang}] from [{item.source_lang}]: {why}")
    print(f"{len(found)} translation(s) need review." if found else "All translations are up to date.")
    return 1 if (found and args.strict) else 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.store.storage import Storage, StorageError

    async def copy() -> None:
        async with Storage(settings.database_path) as storage:
            await storage.backup(args.path)

    try:
        asyncio.run(copy())
    except StorageError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up {settings.database_path} to {args.path}")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import datetime as dt

    from bot.core import report
    from bot.store.storage import Storage, StorageError

    if not settings.database_path.exists():  # never create an empty database just to report on it
        print(
            f"No database at {settings.database_path}: the bot has not run with this DATABASE_PATH yet.",
            file=sys.stderr,
        )
        return 1
    since = (dt.date.today() - dt.timedelta(days=args.days)).isoformat()

    async def rows():
        async with Storage(settings.database_path) as storage:
            return await storage.report_rows(since), await storage.candidate_counts()

    try:
        (unanswered, counts, feedback), waiting = asyncio.run(rows())
    except StorageError as exc:
        print(f"Cannot read the database: {exc}", file=sys.stderr)
        return 1
    built = report.build(args.days, unanswered, counts, feedback, waiting)
    print(report.to_csv(built) if args.format == "csv" else report.to_markdown(built), end="")
    return 0


def cmd_learn(args: argparse.Namespace, settings: Settings) -> int:
    """``learn``: list the candidate phrasings; ``--accept`` / ``--accept-all`` write them into
    the knowledge base, ``--reject`` drops them (``bot.core.learning``)."""
    import asyncio

    from bot.core import learning
    from bot.core.knowledge import OUT_OF_SCOPE
    from bot.store.storage import Storage, StorageError

    if not settings.database_path.exists():  # never create an empty database just to read it
        print(
            f"No database at {settings.database_path}: the bot has not run with this DATABASE_PATH yet.",
            file=sys.stderr,
        )
        return 1
    kb = _knowledge_base(settings)
    if kb is None:
        return 1
    topics = {entry.id for entry in kb} | {OUT_OF_SCOPE, "all"}
    for topic in [args.accept_all, *[t for t in args.reject or [] if not t.isdigit()]]:
        if topic is not None and topic not in topics:
            print(
                f"unknown topic {topic!r}: use an entry id, {OUT_OF_SCOPE} or all (python -m bot learn lists them)",
                file=sys.stderr,
            )
            return 2

    async def run() -> int:
        async with Storage(settings.database_path) as storage:
            review = learning.review(kb, await storage.candidates())
            if not (args.accept or args.accept_all or args.reject):
                print(_learn_listing(review, kb))
                return 0
            code = 0
            if args.reject:
                numbers = [int(t) for t in args.reject if t.isdigit()]
                chosen = learning.select(review, numbers)
                for topic in (t for t in args.reject if not t.isdigit()):
                    chosen += learning.select(review, topic=topic, lang=args.lang)
                code = max(code, _missing(review, numbers))
                deleted = await storage.delete_candidates(sorted({i for g in chosen for i in g.ids}))
                print(f"Rejected {deleted} candidate(s).")
                review = learning.review(kb, await storage.candidates())  # what is left to accept
            if args.accept or args.accept_all:
                numbers = list(args.accept or [])
                code = max(code, _missing(review, numbers))
                chosen = learning.select(review, numbers)
                if args.accept_all:
                    chosen += [
                        g for g in learning.select(review, topic=args.accept_all, lang=args.lang) if g not in chosen
                    ]
                try:
                    written = learning.write(settings.knowledge_dir, chosen)
                except learning.LearnError as exc:
                    print(f"Nothing was written: {exc}", file=sys.stderr)
                    for problem in exc.problems:
                        print(problem, file=sys.stderr)
                    return 1
                await storage.delete_candidates(learning.settled(written))
                _print_written(written)
            return code

    try:
        return asyncio.run(run())
    except StorageError as exc:
        print(f"Cannot read the database: {exc}", file=sys.stderr)
        return 1


def _missing(review, numbers: list[int]) -> int:
    """Print the candidate numbers that are not in ``review``; 2 when there are some."""
    unknown = [n for n in numbers if review.group(n) is None]
    if unknown:
        print(f"no candidate with the number(s) {', '.join(map(str, unknown))}", file=sys.stderr)
        return 2
    return 0


_WHY = {
    "known": "already in the knowledge base (folded away)",
    "conflict": "says what another topic or an off-topic example says",
    "gone": "its topic no longer exists",
    "unwritable": "cannot be written as one line",
}


def _print_written(written) -> None:
    for file, count in written.files.items():
        print(f"Wrote {count} phrasing(s) to {file}")
    for group, why in written.skipped:
        print(f"Skipped #{group.id} ({group.topic}, {group.lang}): {_WHY.get(why, why)}: {group.text}")
    if not written.files:
        print("Nothing new to write.")
        return
    for problem in written.new_warnings:
        print(problem)
    print("check: OK" + (f", {len(written.new_warnings)} new warning(s)" if written.new_warnings else "") + ".")
    print("Next: python -m bot eval --cv shows the effect; /reload (or a restart) puts them in service.")


def _learn_listing(review, kb) -> str:
    """The candidates by topic and language: new ones with their numbers, then what is folded
    away (already known) or in conflict."""
    from bot.core.knowledge import OUT_OF_SCOPE

    if not review.groups:
        return "No candidate phrasings are waiting."
    status = Counter(g.status for g in review.groups)
    total = sum(g.count for g in review.groups)
    lines = [
        f"Candidate phrasings: {total} question(s) in {len(review.groups)} group(s): "
        + ", ".join(f"{count} {name}" for name, count in sorted(status.items()))
        + "."
    ]
    for topic, lang, new, count in review.waiting():
        entry = kb.get(topic)
        title = entry.text(lang).title if entry is not None and lang in entry.texts else ""
        name = "off-topic examples" if topic == OUT_OF_SCOPE else title
        lines += ["", f"## {topic} ({lang}){' · ' + name if name else ''}: {new} new, {count} question(s)"]
        for group in review.of(topic, lang):
            sources = ", ".join(f"{source} {n}" for source, n in sorted(group.sources.items()))
            if group.status == "new":
                lines.append(f"  #{group.id:<5} x{group.count:<3} [{sources}]  {group.text}")
            elif group.status == "known":
                lines.append(f"  (folded away #{group.id}: already known as: {group.match})  {group.text}")
            elif group.status == "conflict":
                lines.append(f"  (conflict #{group.id}: {group.match_topic} has: {group.match})  {group.text}")
            else:
                lines.append(f"  (#{group.id}: the topic no longer exists)  {group.text}")
    lines += [
        "",
        "Accept: python -m bot learn --accept N [N ...]  or  --accept-all TOPIC|out-of-scope|all [--lang L]",
        "Reject: python -m bot learn --reject N|TOPIC [...]  (folded-away ones go when their topic is accepted)",
    ]
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.chat import run_chat

    engine = _engine(settings.knowledge_dir, settings.model_cache)
    if engine is None:
        return 1
    return run_chat(engine, args.lang, sys.stdin, sys.stdout)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.token:
        print(
            "TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather and export it "
            "(see deploy/.env.example), or try the bot without Telegram: python -m bot chat",
            file=sys.stderr,
        )
        return 2
    from bot.telegram.app import run

    return run(settings, webhook=args.webhook)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--knowledge", metavar="DIR", help="knowledge base folder (default: $KNOWLEDGE_DIR or knowledge/)"
    )
    parser = argparse.ArgumentParser(
        prog="parolebot", description="Parole help bot: Telegram bot and knowledge-base tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="run the Telegram bot (long polling by default)")
    run.add_argument(
        "--webhook", action="store_true", help="receive updates through a webhook (WEBHOOK_URL, WEBHOOK_SECRET)"
    )
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", parents=[common], help="talk to the bot in this terminal, without Telegram")
    chat.add_argument("--lang", choices=LANGS)
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", parents=[common], help="answer one question (or JSON lines from stdin with --jsonl)")
    ask.add_argument("--lang", choices=LANGS)
    ask.add_argument("--json", action="store_true", help="print the decision as one JSON object")
    ask.add_argument("--jsonl", action="store_true", help='read {"text": ..., "lang": optional} lines from stdin')
    ask.add_argument("text", nargs="*")
    ask.set_defaults(func=cmd_ask)

    check = sub.add_parser("check", parents=[common], help="validate the knowledge base (exit 1 on errors)")
    check.add_argument("directory", nargs="?")
    check.set_defaults(func=cmd_check)

    backup = sub.add_parser("backup", parents=[common], help="make a consistent copy of the live database")
    backup.add_argument("path", help="new file to write the copy to")
    backup.set_defaults(func=cmd_backup)

    rep = sub.add_parser("report", parents=[common], help="what people asked that the bot could not answer, grouped")
    rep.add_argument("--days", type=int, default=30, help="look back this many days (default 30)")
    rep.add_argument("--format", choices=("md", "csv"), default="md")
    rep.set_defaults(func=cmd_report)

    lrn = sub.add_parser(
        "learn",
        parents=[common],
        help="review the candidate phrasings people and volunteers taught the bot; write the accepted ones into knowledge/",
    )
    lrn.add_argument("--accept", nargs="+", type=int, metavar="N", help="accept the candidates with these numbers")
    lrn.add_argument(
        "--accept-all", metavar="TOPIC", help="accept every new candidate of TOPIC (an entry id, out-of-scope, or all)"
    )
    lrn.add_argument(
        "--reject",
        nargs="+",
        metavar="N|TOPIC",
        help="reject candidates by number, or every candidate of a TOPIC (or all)",
    )
    lrn.add_argument("--lang", choices=LANGS, help="with --accept-all or --reject TOPIC: only this language")
    lrn.set_defaults(func=cmd_learn)

    tr = sub.add_parser("translations", parents=[common], help="list translations made from an older source answer")
    tr.add_argument(
        "--stamp",
        nargs=2,
        metavar=("ENTRY", "LANG"),
        help="mark ENTRY's LANG (or 'all') as reviewed against the current source answer",
    )
    tr.add_argument("--strict", action="store_true", help="exit 1 when a translation needs review")
    tr.set_defaults(func=cmd_translations)

    ev = sub.add_parser(
        "eval",
        parents=[common],
        help="measure matching: --cv on the knowledge base's own phrasings, or a labelled JSON-lines FILE",
    )
    ev.add_argument("file", nargs="?")
    ev.add_argument(
        "--cv", action="store_true", help="grouped cross-validation over the knowledge base (chooses the thresholds)"
    )
    ev.add_argument(
        "--scam", action="store_true", help="cross-validation of the scam radar on knowledge/scam-examples/"
    )
    ev.add_argument("--confusions", type=int, default=10, metavar="N", help="with --cv: list the N most confused pairs")
    ev.add_argument("--show-misses", action="store_true", help="list every question not handled as labelled")
    ev.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    ev.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    if args.knowledge:
        from dataclasses import replace

        settings = replace(settings, knowledge_dir=Path(args.knowledge))
    return args.func(args, settings)
