"""Per-language word lists used by normalisation, language detection and matching.

All words are written already folded (lowercase, no accents), because they are compared with
folded text. Topic vocabulary (synonyms such as parole/parol/permiso humanitario) lives in the
knowledge base (``knowledge/synonyms.yaml``), where maintainers can extend it; this module only
holds the grammar of informal writing.
"""

from __future__ import annotations

import unicodedata


def _words(text: str) -> frozenset[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return frozenset(folded.split())


#: Informal abbreviations expanded before matching, per language (token -> replacement).
ABBREVIATIONS: dict[str, dict[str, str]] = {
    "es": {
        "q": "que",
        "k": "que",
        "ke": "que",
        "xq": "porque",
        "pq": "porque",
        "porq": "porque",
        "xk": "porque",
        "pk": "porque",
        "tmb": "tambien",
        "tb": "tambien",
        "tbn": "tambien",
        "tmbn": "tambien",
        "pa": "para",
        "pal": "para el",
        "xa": "para",
        "x": "por",
        "d": "de",
        "dl": "del",
        "ud": "usted",
        "uds": "ustedes",
        "toy": "estoy",
        "tas": "estas",
        "ta": "esta",
        "tamos": "estamos",
        "tan": "estan",
        "nd": "nada",
        "bn": "bien",
        "msj": "mensaje",
        "msg": "mensaje",
        "info": "informacion",
        "dnd": "donde",
        "xfa": "por favor",
        "xfavor": "por favor",
        "porfa": "por favor",
        "plis": "por favor",
        "cdo": "cuando",
        "qn": "quien",
        "kien": "quien",
        "aki": "aqui",
        "ahi": "ahi",
        "tqm": "",
        "ntp": "no te preocupes",
        "hno": "hermano",
        "hna": "hermana",
        "mi2": "mios",
        "salu2": "saludos",
        "grax": "gracias",
        "grs": "gracias",
        "usa": "estados unidos",
        "eeuu": "estados unidos",
        "eu": "estados unidos",
        "ee": "",
        "uu": "",
    },
    "ht": {
        "m": "mwen",
        "mw": "mwen",
        "mwn": "mwen",
        "w": "ou",
        "l": "li",
        "n": "nou",
        "y": "yo",
        "k": "ki",
        "kk": "kisa",
        "sak": "sa ki",
        "kisak": "kisa ki",
        "kap": "ki ap",
        "map": "mwen ap",
        "wap": "ou ap",
        "lap": "li ap",
        "nap": "nou ap",
        "yap": "yo ap",
        "pap": "pa ap",
        "mpa": "mwen pa",
        "mpap": "mwen pa ap",
        "pou": "pou",
        "pr": "pou",
        "ak": "ak",
        "avk": "avek",
        "bn": "bon",
        "msi": "mesi",
        "mesi": "mesi",
        "etazini": "ozetazini",
        "zetazini": "ozetazini",
        "usa": "ozetazini",
        "eske": "eske",
        "esk": "eske",
        "eski": "eske",
    },
    "en": {
        "u": "you",
        "ur": "your",
        "r": "are",
        "y": "why",
        "im": "i am",
        "ive": "i have",
        "ill": "i will",
        "id": "i would",
        "dont": "do not",
        "doesnt": "does not",
        "didnt": "did not",
        "cant": "can not",
        "cannot": "can not",
        "wont": "will not",
        "isnt": "is not",
        "arent": "are not",
        "wasnt": "was not",
        "havent": "have not",
        "hasnt": "has not",
        "shouldnt": "should not",
        "wouldnt": "would not",
        "whats": "what is",
        "wats": "what is",
        "wat": "what",
        "whos": "who is",
        "hows": "how is",
        "wheres": "where is",
        "thats": "that is",
        "theres": "there is",
        "pls": "please",
        "plz": "please",
        "thx": "thanks",
        "ty": "thank you",
        "tnx": "thanks",
        "govt": "government",
        "ppl": "people",
        "bc": "because",
        "cuz": "because",
        "coz": "because",
        "abt": "about",
        "msg": "message",
        "info": "information",
        "b4": "before",
        "2day": "today",
        "tmrw": "tomorrow",
        "gonna": "going to",
        "wanna": "want to",
        "gotta": "have to",
        "w": "with",
        "idk": "i do not know",
        "rn": "right now",
        "asap": "as soon as possible",
        "us": "us",
        "usa": "united states",
    },
}

#: Function words that carry no topic, per language (also used to detect the language).
STOPWORDS: dict[str, frozenset[str]] = {
    "es": _words(
        """
        a al algo alguien alguna alguno algunos ante antes aqui asi aun aunque bien cada casi
        como con contra cual cuales cualquier cuando cuanto de del desde donde dos el ella ellas
        ellos en entonces era eres es esa esas ese eso esos esta estaba estamos estan estar
        estas este esto estos estoy fue fueron ha hace hacer han has hasta hay he hemos la las
        le les lo los mas me mi mis mucho muy nada ni no nos nosotros nuestra nuestro o otra
        otro para pero poco por porque puede pueden puedo que quien se sea ser si sin sobre
        soy su sus tambien tan tanto te tengo tenemos tiene tienen toda todas todo todos tu
        tus un una unas uno unos usted ustedes va vamos van voy y ya yo
        eh oye pues bueno osea o sea entonces tipo ahi ahora algun alla aca verdad
        seria sera fuera mismo misma cosa cosas favor saber sabe se sabes alguien
        ayuda ayudame ayudenme pregunta preguntar quiero quisiera necesito gustaria
        """
    ),
    "ht": _words(
        """
        a ak ake an ankò ap apre avek avèk ba bay byen de deja di e eske fe fè gen genyen
        gon ka kap ke ki kijan kilè kile kisa kite kòman koman konsa kote kounye kounya
        la lan le li lò lo m ma mwen men nan ne nenpot nou o oswa ou pa pase pi poko pou
        pral pwal sa se si sou swa ta te tou toujou w wi y yo yon sa ki ankò kounyea
        kouman kijan nenpòt poukisa pouki pouk konbyen kiyes kilès eskè lot lòt menm
        mezanmi tanpri souple plis ede edem ed bezwen vle konnen konn kesyon mande
        vreman vrèman tout chak anpil gade ki jan
        """
    ),
    "en": _words(
        """
        a about after again all also am an and any are as at be because been before being
        but by can could did do does doing done for from get got had has have having he her
        here him his how i if in into is it its just know me more most my no not now of on
        once only or other our out over please really she should so some still such than that
        the their them then there these they this those to too very was we were what when
        where which while who why will with would yes you your yours hey ok okay
        anyone someone something thing things tell help question ask want need like
        lol pls guys y'all yall sir maam
        """
    ),
}

#: Messages made only of these words (and stopwords) are greetings or thanks, never a topic.
GREETINGS: dict[str, frozenset[str]] = {
    "es": _words("hola holaa holi buenas buenos dias tardes noches saludos que tal hey ola buen dia"),
    "ht": _words("bonjou bonswa bonjour bonsoir alo allo sak pase kijan ou ye sa k ap fet bonjou"),
    "en": _words("hi hello hey hiya yo good morning afternoon evening greetings howdy sup whats up"),
}
THANKS: dict[str, frozenset[str]] = {
    "es": _words(
        "gracias muchas mil graciass grasias bendiciones dios le bendiga ok vale perfecto listo entendido chevere"
    ),
    "ht": _words("mesi anpil mesii bondye beni w ou ok dakò dako oke byen bon pafe mesi"),
    "en": _words("thanks thank you so much thx ty appreciate it great ok okay cool got it perfect awesome bless"),
}

#: Goodbyes and blessings: a message of only these (with thanks, greetings and the words below)
#: gets a polite goodbye, never a topic and never a volunteer offer.
GOODBYES: dict[str, frozenset[str]] = {
    "es": _words(
        "adios chao chau bye nos vemos hasta luego pronto manana cuidate cuidese dios te lo le los bendiga bendice "
        "bendito amen bendecido bendecida feliz dia noche"
    ),
    "ht": _words("orevwa babay bye n a pale nou a pale pita bondye beni ou w bon jounen nwit swa amen pwoteje"),
    "en": _words("bye goodbye see you later take care god bless blessed blessings amen good night have a nice day"),
}
#: Friendly ways of addressing someone: they never make a message a question on their own.
ADDRESS: dict[str, frozenset[str]] = {
    "es": _words(
        "hermano hermana hermanito mano pana amigo amiga bro broder mi amor mija mijo senor senora jefe asere chamo"
    ),
    "ht": _words("frè fre sè se zanmi cheri mesye madanm boss bro chèf"),
    "en": _words("bro brother sis sister man dude friend buddy mate boss sir maam honey"),
}
#: A request to talk to a person, in any wording: one of the verbs, then (within a few words)
#: one of the people. The bot then goes straight to the consent screen for a volunteer.
HUMAN_VERBS: dict[str, frozenset[str]] = {
    "es": _words(
        "hablar habla hablo comunicarme comunicar conectar conectarme contactar chatear escribirle pasame paseme comuniqueme"
    ),
    "ht": _words("pale kontakte ekri jwenn konekte"),
    "en": _words("talk speak chat connect contact reach"),
}
HUMAN_PEOPLE: dict[str, frozenset[str]] = {
    "es": _words("persona humano humana alguien voluntario voluntaria voluntarios agente gente real operador"),
    "ht": _words("moun volontè volonte vre reyèl reyel ajan"),
    "en": _words("person human someone somebody volunteer volunteers agent real people operator"),
}
#: A short message with one of these words (or starting with "y", "e", "and") usually refers to
#: the topic of the previous answer: "y cuanto cuesta eso?", "e konbyen sa koute?".
FOLLOW_UPS: dict[str, frozenset[str]] = {
    "es": _words("eso esto esa ese lo la y entonces tambien cuanto cuanta tarda demora dura cuesta donde"),
    "ht": _words("sa li l e epi konbyen dire koute kote tou"),
    "en": _words("that it this and so also how long much cost does take where"),
}

#: Words typical of one language, used (with the knowledge base's own vocabulary) to tell the
#: languages apart in short informal messages. Stopwords count too.
MARKERS: dict[str, frozenset[str]] = {
    "es": _words(
        """
        que porque donde cuando quien cual como esta estoy tengo tiene puedo pueden necesito
        quiero hacer hago dice dicen llego llegaron paso pasa mi mis el los las del al una
        y o pero ya ahora todavia aun tambien mucho muy hay hermano hermana mama papa hijo
        hija esposo esposa primo prima tia tio abuela familia trabajo carta correo permiso
        abogado pagar dinero miedo verdad cierto seguro gracias hola buenas estados unidos
        se sabe van voy vamos estamos seria cubano cubanos venezolano venezolanos nicaraguense
        haitiano haitianos """
    ),
    "ht": _words(
        """
        mwen ou li nou yo m w pa pap ap ka kapab gen genyen konnen konn vle bezwen fe fè kisa
        kijan kòman koman kouman poukisa kilè kile kote eske èske se nan pou ak avèk avek
        sa ki la yon tout toujou deja ankò anko kounye kounya manman papa pitit frè se mari
        madanm fanmi travay lajan avoka papye lèt let imel mesaj gouvènman leta imigrasyon
        pral pwal te ta sou men tankou paske mezanmi tanpri mesi bonjou bonswa dako wi non
        peyi ayiti ayisyen ozetazini etazini lakou jij pwogram paròl parol rete ale vini
        jwenn kenbe voye resevwa di mande moun bagay fini fèmen chanje enfòmasyon"""
    ),
    "en": _words(
        """
        the is are am was were what how why when where who which can could should would will
        do does did i my me you your we our they their he she it this that these those there
        have has had get got about with from for of to in on and or but if not no yes
        still already now just anyone someone somebody people mom dad brother sister wife
        husband son daughter cousin family job work letter email lawyer pay money scared
        true really thanks hello hi please program ended end status help"""
    ),
}
