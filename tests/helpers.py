"""Builders for small knowledge bases written into ``tmp_path`` by the tests.

The unit tests never depend on the real ``knowledge/`` folder (it is still being written):
they write their own YAML files with these helpers.

- ``entry_data(id, category, **overrides)``: the fields of a valid entry as a dict; an override
  of ``None`` removes the field, ``es=``/``ht=``/``en=`` replace a whole language block.
- ``entry_yaml(...)``: the same entry as YAML text with a fixed, predictable layout (line
  numbers in ``file:line`` messages can be worked out with ``line_of``).
- ``write_entry(dir, id, category="closure", **overrides)``: writes ``dir/category/id.yaml``.
- ``write_synonyms(dir, groups=None)``: a valid ``synonyms.yaml``.
- ``write_small_kb(dir)``: four realistic entries (es/ht/en) plus synonyms, used by the
  matching, policy, property and CLI tests.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import yaml

from bot.core.knowledge import fingerprint

ROOT = Path(__file__).resolve().parent.parent
#: The day every in-process ``knowledge.load(..., today=TODAY)`` runs on.
TODAY = dt.date.today()
#: A recent review date: neither in the future nor stale, whatever day the tests run.
REVIEWED = TODAY - dt.timedelta(days=10)
LANGS = ("es", "ht", "en")

_GENERIC_QUESTIONS = {
    "es": "que pasa con {w}|como funciona {w}|donde pregunto por {w}|necesito ayuda con {w}|tengo una duda sobre {w}"
    "|me explican {w} por favor|alguien sabe algo de {w}|cual es la regla de {w}",
    "ht": "kisa k ap pase ak {w}|kijan {w} mache|ki kote pou m mande pou {w}|m bezwen ed ak {w}|m gen yon kesyon sou {w}"
    "|eksplike m {w} souple|eske yon moun konn {w}|ki regleman {w}",
    "en": "what happens with {w}|how does {w} work|where do i ask about {w}|i need help with {w}|i have a doubt about {w}"
    "|please explain {w}|does anyone know about {w}|what is the rule for {w}",
}


def generic_lang(entry_id: str, lang: str) -> dict:
    """A valid language block (8 questions, so no 'fewer than 8' warning) for ``entry_id``."""
    word = entry_id.replace("-", " ")
    questions = [q.format(w=word) for q in _GENERIC_QUESTIONS[lang].split("|")]
    return {
        "answer": f"Test answer ({lang}) for {word}.",
        "questions": questions,
    }


def entry_data(entry_id: str, category: str = "closure", *, stamp: bool = True, **overrides: object) -> dict:
    """A valid entry. With ``stamp``, the ht/en blocks get the ``translated_from`` fingerprint of
    the es answer (as ``python -m bot translations --stamp`` writes it), so no warning."""
    data: dict[str, object] = {
        "id": entry_id,
        "category": category,
        "reviewed": REVIEWED,
        "sources": [{"title": "USCIS", "url": "https://www.uscis.gov/CHNV"}],
    }
    for lang in LANGS:
        data[lang] = generic_lang(entry_id, lang)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    for lang in LANGS:  # every language block gets a title, as check asks
        block = data.get(lang)
        if isinstance(block, dict) and "answer" in block and "title" not in block:
            data[lang] = {**block, "title": f"{entry_id.replace('-', ' ')} ({lang})"}
    source = data.get("es")
    if stamp and isinstance(source, dict) and isinstance(source.get("answer"), str):
        for lang in ("ht", "en"):
            block = data.get(lang)
            if isinstance(block, dict) and "answer" in block and "translated_from" not in block:
                data[lang] = {**block, "translated_from": fingerprint(source["answer"])}
    return data


def dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)


def entry_yaml(entry_id: str, category: str = "closure", *, stamp: bool = True, **overrides: object) -> str:
    return dump(entry_data(entry_id, category, stamp=stamp, **overrides))


def write_text(directory: Path, relative: str, text: str) -> Path:
    path = Path(directory) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_entry(
    directory: Path,
    entry_id: str,
    category: str = "closure",
    *,
    filename: str | None = None,
    stamp: bool = True,
    **overrides: object,
) -> Path:
    """Write a valid entry (with ``overrides``) to ``directory/category/<filename or id>.yaml``."""
    name = filename or f"{entry_id}.yaml"
    return write_text(directory, f"{category}/{name}", entry_yaml(entry_id, category, stamp=stamp, **overrides))


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of ``path`` containing ``needle``."""
    seen = 0
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not found {nth} time(s) in {path}")


MINIMAL_SYNONYMS = {
    "parole": ["parole", "parol", "paròl", "permiso humanitario", "humanitarian parole"],
}


def write_synonyms(directory: Path, groups: dict[str, list[str]] | None = None) -> Path:
    return write_text(directory, "synonyms.yaml", dump(groups if groups is not None else MINIMAL_SYNONYMS))


# --- a small realistic knowledge base -------------------------------------------------------

SMALL_SYNONYMS: dict[str, list[str]] = {
    "parole": [
        "parole",
        "parol",
        "paròl",
        "parolee",
        "permiso humanitario",
        "humanitarian parole",
        "parole de biden",
        "biden parole",
    ],
    "chnv": ["chnv", "programa chnv", "pwogram chnv"],
    "work_permit": [
        "permiso de trabajo",
        "work permit",
        "ead",
        "pèmi travay",
        "pemi travay",
        "kat travay",
        "tarjeta de trabajo",
        "employment authorization",
    ],
    "lawyer": ["abogado", "abogada", "lawyer", "attorney", "avoka", "ayuda legal", "legal help", "èd legal"],
    "scam": ["estafa", "estafador", "fraude", "scam", "scammer", "fraud", "eskwokri", "vòlè"],
    "pay": ["pagar", "pago", "cobrar", "dinero", "plata", "pay", "money", "fee", "peye", "lajan", "kòb"],
    "free": ["gratis", "gratuito", "free", "pro bono"],
}

SMALL_KB: dict[str, dict] = {
    "chnv-ended": {
        "category": "closure",
        "related": ["work-permit"],
        "es": {
            "title": "El programa CHNV terminó",
            "answer": "El programa de parole humanitario CHNV terminó en marzo de 2025. No se aceptan solicitudes nuevas.",
            "questions": [
                "se acabo el parole humanitario?",
                "el programa chnv ya no existe?",
                "todavia puedo aplicar al parole de biden",
                "cerraron el parole para los cubanos",
                "ya no hay parole pa venezolanos?",
                "mi primo puede ser mi patrocinador todavia",
                "cancelaron el permiso humanitario definitivamente",
                "cuando terminaron el programa de parole",
                "q paso con el parole, lo quitaron?",
                "sigue abierto el parole o lo cerraron",
            ],
            "keywords": ["chnv", "terminado", "cancelado", "cerrado"],
        },
        "ht": {
            "title": "Pwogram CHNV a fini",
            "answer": "Pwogram paròl imanitè CHNV a fini nan mwa mas 2025. Yo pa aksepte nouvo demann.",
            "questions": [
                "paròl la fini?",
                "pwogram chnv a pa egziste ankò?",
                "eske m ka toujou aplike pou parol biden an",
                "yo fèmen paròl la pou ayisyen yo?",
                "pa gen parol ankò pou venezyelyen?",
                "kouzen m ka sipòte m toujou?",
                "yo anile paròl imanitè a nèt?",
                "kilè yo te fèmen pwogram paròl la",
                "sak pase ak paròl la, yo retire l?",
                "paròl la louvri toujou oswa li fèmen",
            ],
            "keywords": ["chnv", "fini", "fèmen", "anile"],
        },
        "en": {
            "title": "The CHNV program ended",
            "answer": "The CHNV humanitarian parole program ended in March 2025. New applications are not accepted.",
            "questions": [
                "is the parole program over",
                "does chnv still exist",
                "can i still apply for biden parole",
                "did they close parole for cubans",
                "no more parole for venezuelans?",
                "can my cousin still be my sponsor",
                "was humanitarian parole cancelled for good",
                "when did the parole program end",
                "what happened to parole did they take it away",
                "is parole still open or closed",
            ],
            "keywords": ["chnv", "ended", "cancelled", "closed"],
        },
    },
    "work-permit": {
        "category": "closure",
        "related": ["chnv-ended"],
        "es": {
            "title": "El permiso de trabajo",
            "answer": "Los permisos de trabajo basados en el parole CHNV (categoría C11) fueron revocados. Un permiso con otra base sigue valiendo.",
            "questions": [
                "me van a quitar el permiso de trabajo",
                "mi permiso de trabajo c11 sigue valido?",
                "mi jefe dice que mi permiso de trabajo ya no sirve",
                "puedo seguir trabajando si me quitaron el parole",
                "cuanto cuesta renovar el permiso de trabajo",
                "mi tarjeta de trabajo dice c11 que significa",
                "me botaron del trabajo, pueden hacer eso?",
                "mi ead vence el mes que viene",
                "el patron me pidio otro documento para trabajar",
            ],
            "keywords": ["permiso de trabajo", "ead", "c11", "trabajar", "renovar"],
        },
        "ht": {
            "title": "Pèmi travay la",
            "answer": "Pèmi travay ki baze sou paròl CHNV (kategori C11) te revoke. Yon pèmi ki baze sou yon lòt bagay toujou bon.",
            "questions": [
                "yo pral retire pèmi travay mwen",
                "pemi travay c11 mwen an toujou bon?",
                "bos mwen di pèmi travay mwen pa bon ankò",
                "eske m ka kontinye travay si yo retire parol mwen",
                "konbyen kòb pou renouvle pèmi travay",
                "kat travay mwen make c11, kisa sa vle di",
                "yo revoye m nan travay, yo gen dwa?",
                "ead mwen ap ekspire mwa pwochen",
                "patwon an mande m yon lòt papye pou m travay",
            ],
            "keywords": ["pèmi travay", "ead", "c11", "travay", "renouvle"],
        },
        "en": {
            "title": "Your work permit",
            "answer": "Work permits based on CHNV parole (category C11) were revoked. A permit on another basis is still valid.",
            "questions": [
                "will they take my work permit",
                "is my c11 work permit still valid",
                "my boss says my work permit is no good anymore",
                "can i keep working if my parole was terminated",
                "how much does it cost to renew a work permit",
                "my work card says c11 what does that mean",
                "i got fired can they do that",
                "my ead expires next month",
                "my employer asked me for another document to work",
            ],
            "keywords": ["work permit", "ead", "c11", "job", "renew"],
        },
    },
    "scam-payment": {
        "category": "scams",
        "es": {
            "title": "Te piden dinero: es estafa",
            "answer": "Nadie puede venderte un cupo en el parole. Si te piden dinero por WhatsApp para reabrir tu caso, es una estafa: no pagues.",
            "questions": [
                "un señor me pide dinero para reabrir mi caso",
                "me cobran 500 dolares por meterme al programa, es real?",
                "es una estafa si me piden pagar por whatsapp",
                "me escribieron diciendo que pague una multa por zelle",
                "como se si es un fraude",
                "me estafaron, que hago",
                "una pagina dice que vende cupos, es confiable?",
                "me llamaron de inmigracion pidiendo un pago",
            ],
            "keywords": ["estafa", "fraude", "pagar", "whatsapp", "zelle"],
        },
        "ht": {
            "title": "Yo mande w lajan: se eskwokri",
            "answer": "Pesonn pa ka vann ou yon plas nan paròl la. Si yo mande w lajan sou WhatsApp pou relouvri dosye w, se eskwokri: pa peye.",
            "questions": [
                "yon nèg mande m lajan pou relouvri dosye m",
                "yo mande m 500 dola pou mete m nan pwogram nan, se vre?",
                "se eskwokri si yo mande m peye sou whatsapp",
                "yo ekri m pou m peye yon amann sou zelle",
                "kijan pou m konnen si se yon vòlè",
                "yo vòlè kòb mwen, kisa pou m fè",
                "yon sit di li vann plas, eske m ka fè l konfyans",
                "yon moun rele m di li se imigrasyon epi li mande m peye",
            ],
            "keywords": ["eskwokri", "vòlè", "peye", "whatsapp", "zelle"],
        },
        "en": {
            "title": "Asked for money? It's a scam",
            "answer": "Nobody can sell you a spot in parole. If someone asks for money on WhatsApp to reopen your case, it is a scam: do not pay.",
            "questions": [
                "a guy wants money to reopen my case",
                "they charge 500 dollars to put me in the program is it real",
                "is it a scam if they ask me to pay on whatsapp",
                "i got a message saying pay a fine by zelle",
                "how do i know if it is fraud",
                "i got scammed what do i do",
                "a website says it sells spots can i trust it",
                "someone called saying they are immigration and asked for payment",
            ],
            "keywords": ["scam", "fraud", "pay", "whatsapp", "zelle"],
        },
    },
    "find-lawyer": {
        "category": "alternatives",
        "es": {
            "title": "Encontrar un abogado",
            "answer": "Busca un abogado o un representante acreditado. Hay organizaciones que dan ayuda legal gratis: https://www.justice.gov/eoir/list-pro-bono-legal-service-providers",
            "questions": [
                "donde consigo un abogado gratis",
                "necesito un abogado de inmigracion barato",
                "como encuentro ayuda legal",
                "hay abogados que no cobren",
                "me recomiendan un abogado en miami",
                "un notario puede llevar mi caso?",
                "quiero hablar con un abogado sobre mi situacion",
                "cuanto cobra un abogado de inmigracion",
            ],
            "keywords": ["abogado", "ayuda legal", "gratis", "representante"],
        },
        "ht": {
            "title": "Jwenn yon avoka",
            "answer": "Chèche yon avoka oswa yon reprezantan akredite. Gen òganizasyon ki bay èd legal gratis: https://www.justice.gov/eoir/list-pro-bono-legal-service-providers",
            "questions": [
                "ki kote m ka jwenn yon avoka gratis",
                "m bezwen yon avoka imigrasyon ki pa chè",
                "kijan pou m jwenn èd legal",
                "eske gen avoka ki pa fè moun peye",
                "rekòmande m yon avoka nan miami",
                "eske yon notè ka okipe dosye m?",
                "m vle pale ak yon avoka sou sitiyasyon m",
                "konbyen yon avoka imigrasyon koute",
            ],
            "keywords": ["avoka", "èd legal", "gratis", "reprezantan"],
        },
        "en": {
            "title": "Find a lawyer",
            "answer": "Look for a lawyer or an accredited representative. Some organizations give free legal help: https://www.justice.gov/eoir/list-pro-bono-legal-service-providers",
            "questions": [
                "where can i find a free lawyer",
                "i need a cheap immigration lawyer",
                "how do i find legal help",
                "are there attorneys who dont charge",
                "can you recommend a lawyer in miami",
                "can a notary handle my case",
                "i want to talk to a lawyer about my situation",
                "how much does an immigration attorney cost",
            ],
            "keywords": ["lawyer", "attorney", "legal help", "free", "representative"],
        },
    },
}


def write_small_kb(directory: Path) -> Path:
    """Write the four SMALL_KB entries and SMALL_SYNONYMS into ``directory``; return it."""
    directory = Path(directory)
    for entry_id, spec in SMALL_KB.items():
        spec = dict(spec)
        category = spec.pop("category")
        write_entry(directory, entry_id, category, **spec)
    write_synonyms(directory, SMALL_SYNONYMS)
    return directory


def subprocess_env(**extra: str) -> dict[str, str]:
    """The current environment without a Telegram token, with the repository importable."""
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN" and not k.startswith("KNOWLEDGE_DIR")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else str(ROOT)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


PYTHON = sys.executable


async def eventually(check, timeout: float = 5.0) -> None:  # noqa: ASYNC109 -- a polling helper: the timeout bounds the polling loop, not one awaited call
    """Wait until ``check()`` (sync or async) is true, failing after ``timeout`` seconds."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def forget_confirmed(fake, user: int, **who):
    """/forget, then "Yes, delete everything": returns the call that says it is done."""
    mark = fake.mark()
    fake.command(user, "/forget", **who)
    [confirm] = await fake.wait_for("sendMessage", lambda c: c.ok and c.chat_id == user, since=mark)
    assert "1|f|yes" in str(confirm.params.get("reply_markup")), "/forget asks first"
    mark = fake.mark()
    fake.callback_query(user, "1|f|yes", message_id=confirm.result["message_id"], **who)
    [done] = await fake.wait_for("editMessageText", lambda c: c.ok and c.chat_id == user, since=mark)
    return done
