"""bot.core.scamradar: scam messages in es/ht/en warn, honest questions do not; the YAML is checked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core import scamradar
from bot.core.scamradar import ScamHit, ScamPatterns, load_patterns

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "knowledge" / "scam-patterns.yaml"


@pytest.fixture(scope="module")
def radar() -> ScamPatterns:
    patterns, problems = load_patterns(REAL)
    assert [str(p) for p in problems] == []
    assert patterns is not None
    return patterns


# --- real scam messages (typed, asked about or forwarded) and the rule they must trigger -------

SCAMS_ES = [
    (
        "Atencion cubanos!! Se reabrio el parole humanitario, tramite $850 por persona, pagos por Zelle",
        "paid-reopening",
    ),
    ("un tipo en whatsapp me ofrece reabrir el parole x 500 dolares, es confiable?", "paid-reopening"),
    ("me quieren cobrar pa reactivar mi parole, es estafa?", "paid-reopening"),
    ("Vendo sponsor para el parole, 100% real, escribeme al privado", "paid-reopening"),
    ("me dicen q si pago x zelle me aprueban el parole de biden", "paid-reopening"),
    ("Nuevo parole para venezolanos 2026!! Info al privado", "reopening-offer"),
    ("Quedan 5 cupos para la lista de espera del parole, deposito de 200 dolares para reservar", "spots-for-sale"),
    ("Asilo garantizado en 3 meses, cobramos solo 1500. Aprobacion 100% segura", "guaranteed-result-for-money"),
    (
        "un señor dice q tiene contactos en inmigracion y me saca la residencia, cobra 3 mil",
        "guaranteed-result-for-money",
    ),
    ("Me escribio por WhatsApp un tal oficial de inmigracion diciendo que mi caso tiene un problema", "fake-officer"),
    ("me llamaron diciendo que eran de USCIS y que pague una multa o me deportan", "impersonation"),
    ("un agente de ICE me pide 400 dolares para no deportarme", "officer-asks-money"),
    ("Me piden foto del pasaporte y un selfie x whatsapp pa ayudarme con el caso", "documents-by-chat"),
    ("Para el tramite migratorio debe pagar con tarjetas de regalo de Apple", "gift-card"),
    ("me pidieron 300 en bitcoin pa adelantar mi cita", "crypto-request"),
    ("Un notario en Hialeah me quiere llenar el asilo, eso es legal?", "notario-legal-advice"),
    ("la gestora me cobra 800 por meter el I-589", "notario-for-money"),
    ("URGENTE: si no realiza el pago hoy mismo su caso sera cerrado", "threat-and-payment"),
    ("Ultimos dias para pagar el permiso humanitario, no pierdas esta oportunidad", "urgent-payment"),
    ("me mandaron un link por el whatsapp pa poner mi contraseña de uscis", "documents-by-chat"),
    ("el muchacho me pidio un deposito por el zelle pa sacarme el parole a mi mama", "paid-reopening"),
    ("USCIS AVISO: debe abonar la multa de $385 hoy en https://uscis-gov-pagos.com/multa", "fee-on-fake-site"),
    ("me llego un mensaje que pague la tarifa del asilo en uscis-tarifa-asilo.net", "fee-on-fake-site"),
]

SCAMS_HT = [
    ("Parol la relouvri! Peye 500 dola pou dosye a, voye lajan pa Zelle", "paid-reopening"),
    ("yon neg sou whatsapp di l ka fe parol pou manman m si m peye 700 dola", "paid-reopening"),
    ("m ap jwenn sipote pou ou, se 1000 dola, rele m", "paid-reopening"),
    ("NOUVO PAROL pou ayisyen 2026, ekri m an prive pou plis enfomasyon", "reopening-offer"),
    ("gen plas disponib nan lis datant pou parol la, peye 200 dola pou rezeve plas ou", "spots-for-sale"),
    ("Azil garanti 100 pousan, nou peye avoka a ou menm ou pa bezwen fe anyen", "guaranteed-result-for-money"),
    ("yon madanm di li gen kontak anndan imigrasyon, li mande 2000 dola pou rezidans", "guaranteed-result-for-money"),
    ("yon ofisye imigrasyon rele m di gen pwoblem nan dosye m", "fake-officer"),
    ("moun nan di li travay pou USCIS epi li vle m voye lajan", "impersonation"),
    ("yon ajan ICE mande m peye 300 dola pou yo pa arete m", "officer-asks-money"),
    ("yo mande m foto paspo m ak yon selfi sou whatsapp", "documents-by-chat"),
    ("yo mande m peye an bitcoin pou ranje papye m", "crypto"),
    ("yo di m achte kat kado pou peye fre dosye imigrasyon", "gift-card"),
    ("yon note piblik ap ofri m ranpli azil mwen", "notario-legal-advice"),
    ("konsiltan an mande m 600 dola pou papye yo", "notario-for-money"),
    ("si ou pa peye jodi a y ap depote w", "threat-and-payment"),
    ("Denye chans! peye fre dosye a kounye a pou w pa pedi plas ou", "urgent-payment"),
    ("yo voye yon lyen sou whatsapp pou m mete modpas kont USCIS mwen", "documents-by-chat"),
    ("Yo di parol la ap pwolonje, fo w peye 300 dola pou ekstansyon an", "paid-reopening"),
    ("yon moun sou facebook di li ka pwolonje parol mwen pou 400 dola", "paid-reopening"),
    ("DHS: peye amann $250 la sou dhs-regleman.net anvan vandredi", "fee-on-fake-site"),
]

SCAMS_EN = [
    ("Parole is back! We can reopen your CHNV case for a $500 fee, pay by Zelle", "paid-reopening"),
    ("a guy on facebook says he can extend my parole if I pay him 600 dollars", "paid-reopening"),
    ("Sponsors available for the humanitarian parole, DM me for prices", "paid-reopening"),
    ("New parole program for Haitians 2026, message me for details", "reopening-offer"),
    ("limited spots on the priority list, $250 deposit to hold your place", "spots-for-sale"),
    ("Guaranteed green card in 6 months, only $2,000, 100% approval", "guaranteed-result-for-money"),
    ("he says he has inside contacts at USCIS and can fast track my asylum for a fee", "guaranteed-result-for-money"),
    ("someone claiming to be from USCIS called me about a problem with my file", "impersonation-contact"),
    ("an immigration officer texted me on WhatsApp asking for my A-number", "fake-officer"),
    ("an ICE agent told me to pay $1,500 or I will be detained", "officer-asks-money"),
    ("They want a photo of my passport and a selfie sent on Telegram", "documents-by-chat"),
    ("they said I must pay the USCIS fee with Google Play gift cards", "gift-card"),
    ("they asked me to send 300 USDT to process my work permit", "crypto-request"),
    ("the notario at the store offered to fill out my asylum papers", "notario-legal-advice"),
    ("an immigration consultant charges 900 to do my TPS", "notario-for-money"),
    ("Pay the fine today or you will be deported, final notice", "threat-and-payment"),
    ("Last chance to apply, pay the processing fee within 24 hours", "urgent-payment"),
    ("they sent me a link on whatsapp to enter my uscis account password", "documents-by-chat"),
    ("someone is selling the I-134A sponsorship for $300", "paid-reopening"),
    ("a lady on tiktok can get you a sponsor, just send the money by cash app", "paid-reopening"),
    ("USCIS: pay the $3.95 redelivery fee for your work permit card at uscis-card-delivery.info", "fee-on-fake-site"),
    ("Your myUSCIS account is locked. Enter your password at bit.ly/uscis-restore", "login-on-fake-site"),
]

# --- honest questions that must not trigger --------------------------------------------------

HONEST_ES = [
    "es verdad que reabrieron el parole?",
    "cuanto cobra un abogado de inmigracion?",
    "donde denuncio una estafa por zelle?",
    "mi jefe me paga por zelle, mi permiso de trabajo sigue valiendo?",
    "me llego un correo de USCIS, como se si es real?",
    "cuanto cuesta el asilo ahora? dicen que $100 al año",
    "los agentes de ICE pueden entrar a mi casa sin orden?",
    "mi patrocinador me paga la renta, el tiene problemas?",
    "necesito un notario para firmar una carta de mi sponsor",
    "como renuevo mi permiso de trabajo y cuanto cuesta?",
    "Me llamo Maria, tengo el parole vencido, que hago?",
    "se acabo el parole humanitario? q pasa con los cubanos",
    "el I-134A que llene en 2023 todavia sirve de algo?",
    "hay alguna forma de extender mi estadia legal?",
    "cuanto tiempo tengo para pedir asilo despues del parole?",
    "vi en facebook que el parole se acabo, es cierto?",
    "tengo que pagar la multa de transito, eso afecta mi caso?",
    "mi abogado me escribio por whatsapp, es normal?",
    "como reporto un fraude de inmigracion?",
    "la corte de inmigracion me mando una carta, que significa?",
    "¿Puedo mandar dinero a mi mamá en Cuba si tengo el parole vencido?",
    # they ask about or report a scam, or refuse: the scam topics answer, no warning
    "En Facebook vi un anuncio de nuevo parole con pagos por Zelle. No voy a pagar nada, donde lo reporto?",
    "me estafaron, le pague 900 por zelle a un gestor por un sponsor. puedo denunciarlo?",
    "mi abogada me dijo que no puede garantizar el asilo, cobra 3000 en cuotas",
    "pague la tarifa del TPS en my.uscis.gov y me mando a pay.gov, es normal?",
    "vi en cibercuba.com que van a reabrir el parole, es verdad?",
]

HONEST_HT = [
    "eske se vre parol la relouvri?",
    "konbyen yon avoka imigrasyon koute?",
    "kote pou m rapote yon eskwokri sou Zelle?",
    "patwon mwen peye m ak Zelle, eske pemi travay mwen toujou bon?",
    "USCIS voye yon imel ban mwen, kijan m konnen si se vre?",
    "eske azil la koute lajan kounye a?",
    "eske ajan ICE ka antre lakay mwen?",
    "sipote m nan peye lwaye m, eske li ka gen pwoblem?",
    "parol mwen fini, kisa m dwe fe?",
    "kijan pou m renouvle pemi travay mwen?",
    "m te ranpli I-134A an 2023, eske li toujou bon?",
    "konbyen tan m genyen pou m mande azil?",
    "m we sou facebook parol la fini, se vre?",
    "kijan pou m rapote yon moun ki vole lajan m?",
    "eske m ka voye lajan bay manman m Ayiti?",
    "tribinal imigrasyon voye yon let ban mwen, sa sa vle di?",
    "eske TPS Ayiti a pwolonje?",
    "avoka m nan ekri m sou whatsapp, eske se nomal?",
    "mwen bezwen yon avoka gratis",
    "m pa gen lajan pou peye avoka, kisa m ka fe?",
    "M wè yon anons nouvo parol ak peman pa Zelle. M p ap peye anyen, kote pou m rapòte l?",
    "avoka a di m li pa ka garanti anyen, men li mande 150 dola pou konsiltasyon",
    "m peye frè TPS la sou my.uscis.gov, li voye m sou pay.gov",
]

HONEST_EN = [
    "is it true that the parole reopened?",
    "how much does a lawyer cost",
    "where do I report a scam on Zelle",
    "my employer pays me by Zelle, does my work permit still count",
    "USCIS sent me an email, how do I know it's real?",
    "how much is the asylum fee now?",
    "can ICE agents come into my house without a warrant?",
    "my sponsor pays my rent, will he get in trouble?",
    "do I need a notary for my sponsor's letter?",
    "how do I renew my work permit and what does it cost?",
    "did the CHNV parole end for everyone?",
    "can I still use the I-134A I filed in 2023?",
    "is there any way to extend my stay?",
    "I saw on Facebook that the parole ended, is that true?",
    "I have to pay a traffic ticket, will it hurt my case?",
    "my lawyer texted me on WhatsApp, is that normal?",
    "how do I report immigration fraud?",
    "the immigration court sent me a letter, what does it mean?",
    "can I send money to my family in Venezuela?",
    "I lost my job and can't pay rent, what help is there?",
    "saw an ad for a new parole with payment by Zelle. I'm not paying anything, where do I report it?",
    "If someone offers to reopen parole for money, who do I report it to?",
    "Our attorney filed my motion to reopen and billed $1,200. Is that normal?",
    "The lawyer said she can't guarantee anything, her fee is $4,000 in 8 payments",
    "I paid the I-765 fee on https://my.uscis.gov and it sent me to pay.gov, is that right?",
]


def _ids(cases):
    return [text[:40] for text, *_ in cases] if cases and isinstance(cases[0], tuple) else [c[:40] for c in cases]


@pytest.mark.parametrize(("text", "rule"), SCAMS_ES, ids=_ids(SCAMS_ES))
def test_spanish_scams_warn(radar, text, rule):
    hit = radar.check(text, "es")
    assert hit is not None and hit.rule == rule, hit


@pytest.mark.parametrize(("text", "rule"), SCAMS_HT, ids=_ids(SCAMS_HT))
def test_creole_scams_warn(radar, text, rule):
    hit = radar.check(text, "ht")
    assert hit is not None and hit.rule == rule, hit


@pytest.mark.parametrize(("text", "rule"), SCAMS_EN, ids=_ids(SCAMS_EN))
def test_english_scams_warn(radar, text, rule):
    hit = radar.check(text, "en")
    assert hit is not None and hit.rule == rule, hit


@pytest.mark.parametrize("text", HONEST_ES, ids=_ids(HONEST_ES))
def test_spanish_questions_do_not_warn(radar, text):
    assert radar.check(text, "es") is None
    assert radar.check(text) is None


@pytest.mark.parametrize("text", HONEST_HT, ids=_ids(HONEST_HT))
def test_creole_questions_do_not_warn(radar, text):
    assert radar.check(text, "ht") is None
    assert radar.check(text) is None


@pytest.mark.parametrize("text", HONEST_EN, ids=_ids(HONEST_EN))
def test_english_questions_do_not_warn(radar, text):
    assert radar.check(text, "en") is None
    assert radar.check(text) is None


@pytest.mark.parametrize(("text", "rule"), SCAMS_ES + SCAMS_HT + SCAMS_EN, ids=_ids(SCAMS_ES + SCAMS_HT + SCAMS_EN))
def test_scams_warn_without_knowing_the_language(radar, text, rule):
    hit = radar.check(text)
    assert hit is not None and hit.rule == rule, hit


def test_the_corpus_is_large_enough():
    for scams, honest in ((SCAMS_ES, HONEST_ES), (SCAMS_HT, HONEST_HT), (SCAMS_EN, HONEST_EN)):
        assert len(scams) >= 10 and len(honest) >= 10 and len(scams) + len(honest) >= 20


def test_hit_reports_rule_signals_entry_and_evidence(radar):
    hit = radar.check("te reabro el parole por 500 dolares")
    assert hit == ScamHit(
        rule="paid-reopening",
        signals=("payment", "reopening"),
        entry="scam-reopening",
        evidence=(("payment", "dolares"), ("reopening", "reabro")),
    )


def test_mixed_languages_and_informal_spelling(radar):
    assert radar.check("bro me pidieron un deposito pa el parol nuevo", "es").rule == "paid-reopening"
    assert radar.check("yap depote w si w pa peye", "ht").rule == "threat-and-payment"
    assert radar.check("m peye el zelle pou reabrir parol la", "ht").rule == "paid-reopening"
    assert radar.check("REABRIERON EL PAROLE!!! $$$ 500").rule == "paid-reopening"


def test_empty_and_long_messages(radar):
    assert radar.check("") is None
    assert radar.check("   ") is None
    long = "hola " * 1500 + "reabrimos el parole por 500 dolares"
    assert radar.check(long).rule == "paid-reopening"


def test_check_is_fast(radar):
    text = ("Atencion cubanos y venezolanos, llego la informacion que esperaban sobre el programa. " * 45)[:3900]
    radar.check(text)
    t0 = time.perf_counter()
    for _ in range(20):
        radar.check(text)
    assert (time.perf_counter() - t0) / 20 < 0.005


# --- matching rules of phrases ---------------------------------------------------------------


def _patterns(tmp_path: Path, body: str) -> tuple[ScamPatterns | None, list[str]]:
    path = tmp_path / "scam-patterns.yaml"
    path.write_text(body, encoding="utf-8")
    patterns, problems = load_patterns(path)
    return patterns, [str(p) for p in problems]


SMALL = """\
signals:
  money:
    es: [pagar, "$", cobr*]
    ht: [peye]
    en: [pay]
  reopen:
    es: [reabr*, extender * parole]
    ht: [relouvri]
    en: [reopen*]
rules:
  - name: paid-reopening
    all: [money, reopen]
"""


def test_wildcards_whole_words_and_dollar_sign(tmp_path):
    patterns, problems = _patterns(tmp_path, SMALL)
    assert problems == []
    assert patterns.check("te cobran para reabrir").rule == "paid-reopening"
    assert patterns.check("$500 para extender tu parole").rule == "paid-reopening"
    assert patterns.check("extender el permiso, pagar") is None  # "extender * parole" needs parole
    assert patterns.check("pagoda reabrir") is None  # "pagar" does not match inside other words
    assert patterns.check("PÁGAR y REABRÍ").rule == "paid-reopening"
    assert patterns.check("m ap peye pou relouvri", "ht").rule == "paid-reopening"


def test_unless_stops_a_rule(tmp_path):
    body = SMALL.replace(
        "rules:", "  refusal:\n    es: [no voy a pagar]\n    ht: [m p ap peye]\n    en: [not paying]\nrules:"
    ).replace("    all: [money, reopen]\n", "    all: [money, reopen]\n    unless: [refusal]\n")
    patterns, problems = _patterns(tmp_path, body)
    assert problems == []
    assert patterns.check("te cobran para reabrir").rule == "paid-reopening"
    assert patterns.check("dicen que reabren, no voy a pagar a nadie") is None
    assert patterns.check("they reopen it if you pay? I'm not paying") is None


def test_unless_is_checked(tmp_path):
    body = SMALL.replace("    all: [money, reopen]\n", "    all: [money, reopen]\n    unless: [money, refusal]\n")
    patterns, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    assert patterns is None
    assert problems == [
        f'{f}:13: the rule "paid-reopening" names the signal "money" both in all: and in unless:, so it never matches',
        f'{f}:13: the rule "paid-reopening" uses the signal "refusal", which is not defined under signals: (known: money, reopen)',
    ]


def test_web_addresses_that_are_not_government_ones_are_marked():
    assert scamradar.mark_links("pague en https://uscis-gov-pagos.com/multa hoy") == (
        "pague en https://uscis-gov-pagos.com/multa weblink  hoy"
    )
    assert scamradar.mark_links("bit.ly/abc and dhs-pay.net.") == "bit.ly/abc weblink  and dhs-pay.net weblink ."
    for text in (
        "entre a my.uscis.gov y pay.gov",
        "U.S. citizen, 3.5 dolares, p.m.",
        "gratis nèt nèt",
        "casa.Me dijeron",
    ):
        assert scamradar.mark_links(text) == text


def test_missing_file_is_an_empty_radar(tmp_path):
    patterns, problems = load_patterns(tmp_path / "scam-patterns.yaml")
    assert problems == []
    assert patterns is not None and not patterns
    assert patterns.check("reabrimos el parole por 500 dolares") is None
    patterns, problems = load_patterns(tmp_path)  # the knowledge folder also works
    assert problems == [] and patterns == ScamPatterns.empty()


# --- validation: exact file:line: messages ---------------------------------------------------


def test_no_read_as_false_must_be_quoted(tmp_path):
    body = SMALL.replace("ht: [peye]", "ht: [peye,\n        no]")
    _, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    assert problems == [
        f'{f}:5: a phrase of the signal "money" (ht) was read as false: YAML reads words like no, yes, on, off as true/false; put the word in quotes, like "no"',
    ]


def test_unknown_signal_in_rule_and_duplicate_rule_names(tmp_path):
    body = SMALL + "  - name: paid-reopening\n    all: [money, guarantee]\n"
    patterns, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    assert patterns is None
    assert problems == [
        f'{f}:13: the rule name "paid-reopening" is already used on line 11; every rule needs its own name',
        f'{f}:14: the rule "paid-reopening" uses the signal "guarantee", which is not defined under signals: (known: money, reopen)',
    ]


def test_unknown_keys_and_missing_language(tmp_path):
    body = """\
signals:
  money:
    es: [pagar]
    en: [pay]
    fr: [payer]
rules:
  - name: money-only
    all: [money]
    entyr: scam-signs
extra: 1
"""
    patterns, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    assert patterns is None
    assert problems == [
        f'{f}:2: the signal "money" has no "ht:" list; every signal needs es:, ht: and en:',
        f'{f}:5: unknown language "fr" in the signal "money" (allowed: es, ht, en)',
        f'{f}:9: unknown field "entyr" in a rule (allowed: name, all, unless, entry)',
        f'{f}:10: unknown part "extra" (allowed: signals, rules); check the spelling, and indent signal names under signals:',
    ]


def test_broken_yaml_reports_the_line(tmp_path):
    body = "signals:\n  money:\n    es: [pagar, cobrar\n    ht: [peye]\nrules: []\n"
    patterns, problems = _patterns(tmp_path, body)
    assert patterns is None
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'scam-patterns.yaml'}:4: the file is not valid YAML")


def test_bad_phrases(tmp_path):
    body = SMALL.replace(
        'es: [pagar, "$", cobr*]', 'es: [pagar, "$", cobr*, "pa*", "re*abrir", "* parole", "!!!", pagar]'
    )
    patterns, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    where = 'of the signal "money" (es)'
    assert patterns is None
    assert problems == [
        f'{f}:3: the phrase "!!!" {where} has no letters or digits, so it can never match',
        f'{f}:3: the phrase "* parole" {where} starts or ends with a lone *; a lone * stands for one word between two others',
        f'{f}:3: the phrase "pa*" {where} has a * after fewer than 3 letters ("pa*"); such a short start matches far too many words',
        f'{f}:3: the phrase "re*abrir" {where} has a * inside a word; a * may only end a word ("reabr*") or stand alone for any one word ("extender * parole")',
        f'{f}:3: warning: the phrase "pagar" {where} is already in the list (line 3); remove one',
    ]


def test_rule_without_signals_and_empty_lists(tmp_path):
    body = """\
signals:
  money:
    es: []
    ht: peye
    en: [pay]
rules:
  - name: Paid Reopening
  - all: []
"""
    patterns, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    assert patterns is None
    assert problems == [
        f'{f}:3: the "es" phrases of the signal "money" must be a list in [ ] with at least one phrase (it is an empty list)',
        f'{f}:4: the "ht" phrases of the signal "money" must be a list in [ ] with at least one phrase (it is "peye")',
        f'{f}:7: the rule "Paid Reopening" has no all: list of signals',
        f'{f}:7: the rule name "Paid Reopening" must be lowercase words joined by "-" (like paid-reopening)',
        f"{f}:8: all: of this rule must be a list of signal names in [ ], like [payment, reopening]",
        f"{f}:8: this rule has no name:",
    ]


def test_unused_signal_is_a_warning_only(tmp_path):
    body = SMALL.replace("rules:", "  lonely:\n    es: [solo]\n    ht: [pou kont]\n    en: [alone]\nrules:")
    patterns, problems = _patterns(tmp_path, body)
    f = tmp_path / "scam-patterns.yaml"
    assert patterns is not None
    assert problems == [f'{f}:10: warning: the signal "lonely" is not used by any rule, so it never has an effect']


def test_empty_file_and_wrong_shape(tmp_path):
    f = tmp_path / "scam-patterns.yaml"
    assert _patterns(tmp_path, "# nothing yet\n") == (None, [f"{f}:1: the file is empty"])
    assert _patterns(tmp_path, "- payment\n- reopening\n") == (
        None,
        [f'{f}:1: the file must have two parts, "signals:" and "rules:" (see the explanation at the top of the file)'],
    )


def test_real_file_loads_without_problems_and_every_rule_entry_exists():
    patterns, problems = load_patterns(REAL)
    assert [str(p) for p in problems] == []
    assert patterns is not None and len(patterns.rules) >= 10
    for rule in patterns.rules:
        assert rule.entry is None or list((ROOT / "knowledge").rglob(f"{rule.entry}.yaml")), rule.entry
    for name, langs in patterns.signals.items():
        assert set(langs) == {"es", "ht", "en"}, name


def test_parse_patterns_works_on_text():
    patterns, problems = scamradar.parse_patterns(SMALL, "x.yaml")
    assert problems == [] and patterns.check("pay to reopen").rule == "paid-reopening"
