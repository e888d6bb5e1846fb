"""Matching benchmark: latency of ``Engine.respond``, load time and peak memory.

    python benchmarks/bench_matching.py            # real knowledge base + 1,000 + 10,000 entries
    python benchmarks/bench_matching.py --quick    # real knowledge base + 1,000 entries only
    python benchmarks/bench_matching.py --profile  # also show where the time goes (cProfile)

Each scenario runs in its own subprocess, so its peak memory (``ru_maxrss``) is its own:

- ``real``: the knowledge base in ``knowledge/``;
- ``synthetic-N``: N entries generated into a temp folder, realistic in size (3 languages x 20
  questions x about 8 words drawn from a domain vocabulary, answers of ~600 characters,
  keywords, a ``synonyms.yaml``).

Per scenario it measures ``knowledge.load`` as the bot loads (parse + every validation rule but
the near-duplicate search, which only ``check`` runs; median of three loads) and as ``check``
loads (every rule), the ``Engine`` build
(matcher index + language detector), and the latency of ``Engine.respond`` on a list of
realistic questions in es/ht/en (plus, on synthetic bases, paraphrases of generated questions
with a typo), each asked many times with the normalisation cache cleared before every call
(real messages are rarely repeated).

Targets (issue 16): p99 <= 10 ms per question, peak memory <= 250 MB and start-up <= 5 s with a cached model on the real base; p99 <= 20 ms at 1,000 entries;
10,000 entries load in under 5 s (``knowledge.load`` as the bot loads; the Engine build
comes on top and is printed as "ready"). From 500 files on, ``knowledge.load`` parses in a process pool, one
worker per CPU core, so the load figure depends on the machine's cores.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Realistic questions written for this benchmark (not taken from any evaluation set).
QUESTIONS = {
    "es": [
        "se acabo el parole humanitario?",
        "q pasa si me quedo despues de la fecha del aviso",
        "me llego un correo de uscis diciendo q me tengo q ir, es real?",
        "mi permiso de trabajo c11 todavia sirve?",
        "un señor me cobra 800 dolares pa reabrir el parole, es estafa?",
        "donde consigo un abogado gratis en miami",
        "tengo el asilo pendiente, me pueden deportar?",
        "soy cubano, puedo pedir la residencia con la ley de ajuste?",
        "dicen en tiktok q el programa vuelve a abrir",
        "mi patrocinador ya no quiere ayudarme, q hago",
        "q hago si la migra toca la puerta de mi casa",
        "mi seguro social sigue valido si me quitaron el parole?",
        "tengo tps de venezuela, me afecta lo del parole?",
        "mi esposo es ciudadano, puede pedirme?",
        "como hablo con una persona de verdad",
    ],
    "ht": [
        "eske paròl la fini vre?",
        "m resevwa yon imel ki di m fòk m kite peyi a",
        "pèmi travay mwen an toujou bon?",
        "yon nèg mande m 500 dola pou l relouvri dosye m",
        "ki kote m ka jwenn yon avoka gratis",
        "m gen azil an atant, yo ka depòte m?",
        "eske m ka aplike pou tps kòm ayisyen",
        "m tande yo pral relouvri pwogram nan, se vre?",
        "sipòtè m nan pa vle ede m ankò",
        "kisa pou m fè si imigrasyon frape pòt mwen",
        "nimewo sosyal mwen toujou bon?",
        "konbyen tan m genyen anvan m kite peyi a",
        "mari m se sitwayen, li ka fè papye pou mwen?",
        "kijan pou m pale ak yon moun tout bon",
        "eske bot sa a kenbe done mwen",
    ],
    "en": [
        "is the chnv parole program really over",
        "got an email saying my parole was terminated, is it legit",
        "is my c11 work permit still valid",
        "someone wants 800 dollars to reopen my case, scam?",
        "where can i find a free immigration lawyer",
        "can they deport me if my asylum case is pending",
        "im cuban can i get a green card with the cuban adjustment act",
        "heard on tiktok they are reopening the program",
        "my sponsor wont help me anymore what do i do",
        "what do i do if ice knocks on my door",
        "is my social security number still good",
        "does the parole ending affect my tps",
        "my husband is a citizen can he petition for me",
        "how do i talk to a real person",
        "how long do i have before i need to leave",
    ],
}

# Domain vocabulary for synthetic entries (folded words), plus generated topic words.
VOCAB = {
    "es": """parole programa permiso trabajo abogado asilo residencia deportar aviso correo carta fecha
        salir pais patrocinador familia esposo esposa hijo hija mama papa corte juez caso cita uscis
        formulario estafa dinero pagar dolares gratis ayuda seguro social tps venezuela cuba haiti
        nicaragua ley ajuste cubano migra puerta derechos silencio documento pasaporte vencido renovar
        pendiente terminado cancelado reabrir tiktok rumor noticia gobierno trump biden empleo jefe
        empresa escuela medico hospital iglesia organizacion gratis barato notario representante
        acreditado peticion visa viaje permiso detenido arresto miedo urgente plazo dias meses""",
    "ht": """parol pwogram pemi travay avoka azil rezidans depote avi imel let dat kite peyi sipote fanmi
        mari madanm pitit manman papa tribinal jij dosye randevou fom eskwokri lajan peye dola gratis
        ed sosyal tps venezwela kiba ayiti nikaragwa lwa imigrasyon pot dwa silans papye paspo
        ekspire renouvle anatant fini anile relouvri tiktok teledyol nouvel gouvenman biden djob bos
        konpayi lekol dokte lopital legliz oganizasyon notè reprezantan akredite petisyon viza vwayaj
        arete prizon pe ijan dele jou mwa""",
    "en": """parole program permit work lawyer asylum residence deport notice email letter date leave
        country sponsor family husband wife son daughter mom dad court judge case appointment uscis
        form scam money pay dollars free help social security tps venezuela cuba haiti nicaragua law
        adjustment cuban ice door rights silent document passport expired renew pending terminated
        cancelled reopen tiktok rumor news government trump biden job boss company school doctor
        hospital church organization cheap notary representative accredited petition visa travel
        detained arrest scared urgent deadline days months""",
}
GLUE = {
    "es": "que como donde cuando puedo tengo mi me el la los las de del para por con si ya todavia q pa xq",
    "ht": "kisa kijan kote kile eske m mwen ou li yo nan pou ak si deja toujou ka gen pa se",
    "en": "what how where when can i my me the a of for with if still already is do does will",
}
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ka",
    "ke",
    "ki",
    "ko",
    "ku",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
]


def make_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def _q(text: str) -> str:
    """A double-quoted YAML scalar (the generated texts have no quotes or backslashes)."""
    return '"' + text + '"'


def generate_kb(directory: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` valid, realistic-size entries and a synonyms.yaml into ``directory``.

    The YAML is written with a template (PyYAML's emitter would take most of a minute for
    10,000 files); every scalar is quoted, so nothing is read as a number or a boolean."""
    from bot.core.knowledge import fingerprint

    rng = random.Random(seed)
    vocab = {lang: VOCAB[lang].split() for lang in VOCAB}
    glue = {lang: GLUE[lang].split() for lang in GLUE}
    topic_words = sorted({make_word(rng) for _ in range(max(400, n // 2))})
    reviewed = (dt.date.today() - dt.timedelta(days=20)).isoformat()
    categories = ("closure", "scams", "alternatives", "bot")
    seen_questions: set[str] = set()
    for index in range(n):
        entry_id = f"topic-{index:05d}"
        category = categories[index % len(categories)]
        own = rng.sample(topic_words, 3)
        lines = [
            f"id: {entry_id}",
            f"category: {category}",
            f"reviewed: {reviewed}",
            "sources:",
            f"  - title: {_q(f'Source {index}')}",
            f"    url: https://www.example.org/{entry_id}",
        ]
        source_answer = ""
        for lang in ("es", "ht", "en"):
            questions: list[str] = []
            while len(questions) < 20:
                words = rng.sample(vocab[lang], 3) + rng.sample(glue[lang], 3) + rng.sample(own, rng.randint(1, 2))
                rng.shuffle(words)
                question = " ".join(words)
                if question not in seen_questions:
                    seen_questions.add(question)
                    questions.append(question)
            answer = " ".join(rng.choices(vocab[lang] + glue[lang] + own, k=90)).capitalize() + "."
            keywords = own + rng.sample(vocab[lang], 2)
            lines += [
                f"{lang}:",
                f"  title: {_q(f'{own[0]} {lang} {index}')}",
                f"  answer: {_q(answer)}",
                "  questions:",
            ]
            lines += [f"    - {_q(q)}" for q in questions]
            lines.append("  keywords: [" + ", ".join(_q(k) for k in keywords) + "]")
            if lang == "es":
                source_answer = answer
            else:
                lines.append(f"  translated_from: {_q(fingerprint(source_answer))}")
        path = directory / category / f"{entry_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # synonyms: groups of domain words across the three languages, each word in one group only
    used: set[str] = set()
    groups = []
    for i, trio in enumerate(zip(vocab["es"], vocab["ht"], vocab["en"])):
        words = sorted(set(trio))
        if used.isdisjoint(words):
            used.update(words)
            groups.append(f"concept_{i}: [" + ", ".join(_q(w) for w in words) + "]")
    (directory / "synonyms.yaml").write_text("\n".join(groups) + "\n", encoding="utf-8")


def synthetic_queries(kb, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Paraphrases of generated questions: shuffled, one word dropped, one typo."""
    entries = list(kb)
    out = []
    for _ in range(count):
        entry = rng.choice(entries)
        lang = rng.choice(("es", "ht", "en"))
        words = rng.choice(entry.text(lang).questions).split()
        rng.shuffle(words)
        words.pop(rng.randrange(len(words)))
        i = rng.randrange(len(words))
        if len(words[i]) > 4:
            j = rng.randrange(1, len(words[i]) - 1)
            words[i] = words[i][:j] + words[i][j + 1] + words[i][j] + words[i][j + 2 :]
        out.append((" ".join(words), lang))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run_scenario(name: str, entries: int, repeats: int, profile: bool) -> dict:
    from bot.core import knowledge
    from bot.core.conversation import Engine
    from bot.core.normalize import fold

    baseline = peak_rss_mb()
    notes: list[str] = []
    tmp = None
    if name == "real":
        directory = ROOT / "knowledge"
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-kb-")
        directory = Path(tmp.name)
        start = time.perf_counter()
        generate_kb(directory, entries)
        notes.append(f"generated in {time.perf_counter() - start:.1f} s")
    # as ``python -m bot check`` loads (every rule, near-duplicate warnings included)
    start = time.perf_counter()
    checked = knowledge.load(directory)
    check_s = time.perf_counter() - start
    del checked
    # as the bot loads (start-up and /reload: every rule but the near-duplicate search), the
    # median of LOAD_RUNS loads: shared machines are noisy
    loads: list[float] = []
    result = None
    for _ in range(LOAD_RUNS):
        result = None  # the previous one is freed first
        start = time.perf_counter()
        result = knowledge.load(directory, near_duplicates=False)
        loads.append(time.perf_counter() - start)
    load_s = statistics.median(loads)
    notes.append("loads " + " / ".join(f"{s:.2f}" for s in loads) + " s")
    if result.kb is None:
        errors = [str(p) for p in result.errors]
        return {"name": name, "error": f"{len(errors)} error(s): " + "; ".join(errors[:3])}
    kb = result.kb
    cache = tempfile.TemporaryDirectory(prefix="bench-models-")
    start = time.perf_counter()
    engine = Engine(kb, Path(cache.name))  # trains the model (cross-validation + fit) and caches it
    build_s = time.perf_counter() - start
    # start-up with a cached model, as after a restart: load, then the model from disk
    from bot.core import model as models
    from bot.ui.i18n import load_all

    models._memory.clear()
    start = time.perf_counter()
    again = knowledge.load(directory, near_duplicates=False)
    assert again.kb is not None
    Engine(again.kb, Path(cache.name))
    load_all()
    startup_s = time.perf_counter() - start
    del again
    notes.append(f"thresholds: {engine.model.thresholds.source}")
    # the bot's memory: a fresh process that starts from the cached model and answers (training
    # needs more, but happens once per knowledge-base version, in a worker process)
    probe = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[3]);"
        "from bot.core import knowledge; from bot.core.conversation import Engine; from bot.ui.i18n import load_all;"
        "import telegram.ext;"  # the Telegram library is loaded too, as in the bot
        "kb = knowledge.load(sys.argv[1], near_duplicates=False).kb; engine = Engine(kb, Path(sys.argv[2])); load_all();"
        "[engine.respond(q) for q in ('se acabo el parole?', 'mesi anpil', 'how do i find a free lawyer')];"
        # VmHWM: this process's own peak (ru_maxrss would carry the parent's peak over the exec)
        "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(directory), cache.name, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    serving_mb = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else -1.0

    queries = [(q, lang) for lang, qs in QUESTIONS.items() for q in qs]
    if name != "real":
        queries += synthetic_queries(kb, random.Random(11), len(queries))
    for text, _ in queries:  # warm-up
        engine.respond(text)
    timings: list[float] = []
    actions: dict[str, int] = {}
    for _ in range(repeats):
        for text, _lang in queries:
            fold.cache_clear()
            start = time.perf_counter()
            reply = engine.respond(text)
            timings.append((time.perf_counter() - start) * 1000.0)
            actions[reply.action] = actions.get(reply.action, 0) + 1
    profile_text = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for text, _ in queries:
            fold.cache_clear()
            engine.respond(text)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(12)
        profile_text = stream.getvalue()
    out = {
        "name": name,
        "entries": len(kb),
        "questions": sum(len(t.questions) for e in kb for t in e.texts.values()),
        "load_s": load_s,
        "check_s": check_s,
        "build_s": build_s,
        "startup_s": startup_s,
        "calls": len(timings),
        "median_ms": statistics.median(timings),
        "p99_ms": percentile(timings, 0.99),
        "max_ms": max(timings),
        "rss_mb": serving_mb,
        "training_mb": peak_rss_mb(),
        "baseline_mb": baseline,
        "actions": actions,
        "note": "; ".join(notes),
        "profile": profile_text,
    }
    if tmp is not None:
        tmp.cleanup()
    cache.cleanup()
    return out


#: How many times each knowledge base is loaded as the bot loads it (the median is reported).
LOAD_RUNS = 3
SCENARIOS = {
    # name: (entries, repeats of the question list)
    "real": (0, 40),
    "synthetic-1000": (1000, 6),
    "synthetic-10000": (10000, 2),
}
TARGETS = {
    "real": {"p99_ms": 10.0, "rss_mb": 250.0, "startup_s": 5.0},
    "synthetic-1000": {"p99_ms": 20.0},
}


def check_targets(row: dict) -> list[str]:
    missed = []
    for key, limit in TARGETS.get(row["name"], {}).items():
        if key in ("load_s", "startup_s", "rss_mb"):
            if row[key] > limit:
                missed.append(f"{row['name']}: {key} {row[key]:.1f} (target <= {limit:g})")
        elif row[key] > limit:
            missed.append(f"{row['name']}: {key.replace('_ms', '')} {row[key]:.2f} ms (target <= {limit:g} ms)")
    return missed


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'knowledge base':<17}{'entries':>8}{'questions':>10}{'load s':>9}{'check s':>9}{'train s':>9}{'start s':>9}"
        f"{'calls':>7}{'median ms':>11}{'p99 ms':>9}{'max ms':>9}{'bot MB':>8}{'train MB':>9}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        if "error" in row:
            print(f"{row['name']:<17}  {row['error']}")
            continue
        print(
            f"{row['name']:<17}{row['entries']:>8}{row['questions']:>10}{row['load_s']:>9.2f}{row['check_s']:>9.2f}{row['build_s']:>9.2f}{row['startup_s']:>9.2f}"
            f"{row['calls']:>7}{row['median_ms']:>11.3f}{row['p99_ms']:>9.3f}{row['max_ms']:>9.2f}{row['rss_mb']:>8.0f}{row['training_mb']:>9.0f}"
        )
    print()
    print(
        f"load s: knowledge.load as the bot loads (parse + every rule but the near-duplicate search), median of {LOAD_RUNS};"
    )
    print("check s: knowledge.load as `python -m bot check` (every rule, near-duplicate warnings included);")
    print("train s: Engine(kb) without a cached model (cross-validation + classifier + matcher + detector);")
    print("start s: start-up with the model cached (knowledge.load + Engine from the cache + catalogs);")
    print("latency: Engine.respond per question (language, intents, ranking, policy, scam radar);")
    print("bot MB: peak memory of a fresh process that starts from the cached model (with the Telegram library)")
    print("and answers; train MB: peak memory of the scenario's process, training included.")
    for row in rows:
        if "error" not in row:
            acts = ", ".join(f"{k} {v}" for k, v in sorted(row["actions"].items()))
            extra = f"; {row['note']}" if row["note"] else ""
            print(f"  {row['name']}: {acts}; {row['baseline_mb']:.0f} MB before loading{extra}")
    print()
    print(
        "Targets: real p99 <= 10 ms, peak <= 250 MB, start-up <= 5 s with a cached model; 1,000 entries p99 <= 20 ms."
    )
    for row in rows:
        if "error" not in row and row["name"] == "synthetic-10000":
            print(
                f"Ready to answer (load + build) at 10,000 entries: {row['load_s'] + row['build_s']:.1f} s on {os.cpu_count()} CPU cores."
            )
    missed = [m for row in rows if "error" not in row for m in check_targets(row)]
    print("All targets met." if not missed else "Missed: " + "; ".join(missed))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-entry knowledge base")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the matching calls")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        entries, repeats = SCENARIOS[args.scenario]
        row = run_scenario(args.scenario, entries, repeats, args.profile)
        print(json.dumps(row))
        sys.stdout.flush()
        return 0
    names = [n for n in SCENARIOS if not (args.quick and n == "synthetic-10000")]
    rows = []
    started = time.perf_counter()
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)  # progress
        cmd = [sys.executable, str(Path(__file__).resolve()), "--scenario", name] + (
            ["--profile"] if args.profile else []
        )
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not done.stdout.strip():
            rows.append({"name": name, "error": (done.stderr.strip().splitlines() or ["failed"])[-1]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print()
    print_table(rows)
    if args.profile:
        for row in rows:
            if row.get("profile"):
                print(f"\n--- profile of {row['name']} (cumulative) ---")
                print(row["profile"])
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
