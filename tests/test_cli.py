"""``python -m bot`` as a user runs it: subprocesses, a temp knowledge base, no Telegram token."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import PYTHON, ROOT, SMALL_KB, subprocess_env, write_small_kb, write_text

FIELDS = ["text", "lang", "action", "topic", "score", "suggestions", "answer", "scam", "redacted"]


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_kb(tmp_path_factory.mktemp("kb"))


def bot(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "bot", *args],
        cwd=ROOT,
        env=env or subprocess_env(),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_ask_json_has_exactly_the_contract_fields(kb_dir: Path) -> None:
    done = bot("ask", "--knowledge", str(kb_dir), "--json", "se acabo el parole humanitario?")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert list(data) == FIELDS
    assert data["text"] == "se acabo el parole humanitario?"
    assert data["lang"] == "es"
    assert data["action"] == "answer" and data["topic"] == "chnv-ended"
    assert isinstance(data["score"], float)
    assert data["suggestions"] == []
    assert data["answer"] == SMALL_KB["chnv-ended"]["es"]["answer"]


def test_ask_json_forced_language_and_escalation(kb_dir: Path) -> None:
    done = bot("ask", "--knowledge", str(kb_dir), "--json", "--lang", "ht", "mi", "carro", "no", "arranca")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert list(data) == FIELDS
    assert isinstance(data.pop("score"), float)
    assert data == {
        "text": "mi carro no arranca",
        "lang": "ht",
        "action": "escalate",
        "topic": None,
        "suggestions": [],
        "answer": None,
        "scam": None,
        "redacted": "mi carro no arranca",
    }


def test_ask_jsonl_answers_every_line_in_order(kb_dir: Path) -> None:
    questions = [
        {"text": "hola"},
        {"text": "is my work permit still valid?", "lang": "en"},
        {"text": "m bezwen yon avoka gratis"},
        {"text": "mi carro no arranca", "lang": "xx"},  # unknown lang: detected instead
        {"text": "😀"},
        {"text": "me piden plata por whatsapp para arreglar el caso", "lang": "es"},
    ]
    stdin = (
        "\n".join(json.dumps(q, ensure_ascii=False) for q in questions[:3])
        + "\n\n"
        + "\n".join(json.dumps(q) for q in questions[3:])
        + "\n"
    )
    done = bot("ask", "--knowledge", str(kb_dir), "--jsonl", stdin=stdin)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["text"] for o in out] == [q["text"] for q in questions]
    assert all(list(o) == FIELDS for o in out)
    assert [(o["lang"], o["action"], o["topic"]) for o in out] == [
        ("es", "answer", None),
        ("en", "answer", "work-permit"),
        ("ht", "answer", "find-lawyer"),
        ("es", "escalate", None),
        ("es", "escalate", None),
        ("es", "answer", "scam-payment"),
    ]


def test_ask_jsonl_rejects_a_bad_line(kb_dir: Path) -> None:
    done = bot("ask", "--knowledge", str(kb_dir), "--jsonl", stdin='{"text": "hola"}\nnot json\n{"text": "thanks"}\n')
    assert done.returncode == 2
    assert len(done.stdout.splitlines()) == 1  # the line before the bad one was answered
    assert "line 2: expected a JSON object with a text field" in done.stderr


def test_ask_without_question_explains(kb_dir: Path) -> None:
    done = bot("ask", "--knowledge", str(kb_dir))
    assert done.returncode == 2
    assert "ask needs a question" in done.stderr


def test_eval_prints_the_per_language_table(kb_dir: Path, tmp_path: Path) -> None:
    records = [
        {"text": "se acabo el parole humanitario?", "lang": "es", "topic": "chnv-ended"},
        {"text": "necesito un abogado gratis", "lang": "es", "topic": "find-lawyer"},
        {"text": "mi carro no arranca", "lang": "es", "topic": None},
        {"text": "m bezwen yon avoka gratis", "lang": "ht", "topic": "find-lawyer"},
        {"text": "is my work permit still valid?", "lang": "en", "topic": "work-permit"},
        {"text": "how do i bake bread", "lang": "en", "topic": None},
    ]
    data = write_text(tmp_path, "mini.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    done = bot("eval", "--knowledge", str(kb_dir), str(data))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "lang",
        "in-scope",
        "top-1",
        "right",
        "wrong",
        "found",
        "escal.",
        "oos",
        "oos-ans",
        "lang-ok",
    ]
    assert set(lines[1]) == {"-"}
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:6]}
    assert list(rows) == ["es", "ht", "en", "all"]
    assert rows["es"] == ["2", "100.0%", "100.0%", "0.0%", "100.0%", "0.0%", "1", "0.0%", "100.0%"]
    assert rows["ht"][:3] == ["1", "100.0%", "100.0%"]
    assert rows["en"][:3] == ["1", "100.0%", "100.0%"]
    assert rows["all"][0] == "4" and rows["all"][6] == "2"
    assert "Below target" not in done.stdout


def test_eval_reports_a_bad_file(kb_dir: Path, tmp_path: Path) -> None:
    data = write_text(tmp_path, "bad.jsonl", '{"text": "hola", "lang": "es"}\n{"lang": "es"}\n')
    done = bot("eval", "--knowledge", str(kb_dir), str(data))
    assert done.returncode == 2
    assert 'line 2: expected an object with a "text" field' in done.stderr


def test_chat_question_button_and_quit(kb_dir: Path) -> None:
    stdin = "se acabo el parole humanitario?\n1\n/quit\nnecesito un abogado gratis\n"
    done = bot("chat", "--knowledge", str(kb_dir), stdin=stdin)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "(type a question, a button number, /language, /topics, or /quit)" in out
    assert "(es · answer · score" in out and "· chnv-ended)" in out
    first = out.index(SMALL_KB["chnv-ended"]["es"]["answer"])
    # button [1] under the answer is the related entry; pressing it shows that answer
    assert "[1] ➡️ " + SMALL_KB["work-permit"]["es"]["title"] in out[first:]
    assert out.index(SMALL_KB["work-permit"]["es"]["answer"]) > first
    # nothing after /quit was read
    assert SMALL_KB["find-lawyer"]["es"]["answer"] not in out


def test_chat_with_forced_language(kb_dir: Path) -> None:
    done = bot("chat", "--knowledge", str(kb_dir), "--lang", "en", stdin="se acabo el parole humanitario?\n")
    assert done.returncode == 0, done.stderr
    assert "(en · answer" in done.stdout
    assert SMALL_KB["chnv-ended"]["en"]["answer"] in done.stdout


def test_broken_knowledge_base_is_refused(tmp_path: Path) -> None:
    write_small_kb(tmp_path)
    write_text(tmp_path, "closure/broken.yaml", "id: [\n")
    done = bot("ask", "--knowledge", str(tmp_path), "hola")
    assert done.returncode == 1
    assert f"The knowledge base in {tmp_path} has errors:" in done.stderr
    assert f"{tmp_path}/closure/broken.yaml:2: the file is not valid YAML" in done.stderr


def test_run_without_token_explains(kb_dir: Path) -> None:
    env = subprocess_env()
    assert "TELEGRAM_BOT_TOKEN" not in env
    done = bot("run", "--knowledge", str(kb_dir), env=env)
    assert done.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert "python -m bot chat" in done.stderr


def test_malformed_setting_is_one_clear_line(kb_dir: Path) -> None:
    done = bot("ask", "--knowledge", str(kb_dir), "hola", env=subprocess_env(RETENTION_DAYS="thirty"))
    assert done.returncode == 2
    assert done.stderr.strip() == "Configuration error: RETENTION_DAYS must be a whole number, got 'thirty'"


def test_ask_json_reports_the_scam_rule_and_the_masked_text() -> None:
    from conftest import TEST_KB

    done = bot(
        "ask",
        "--knowledge",
        str(TEST_KB),
        "--json",
        "un tipo en facebook me cobra 300 dolares por zelle pa meterme en el parole q reabrieron, mi A-number es A123456789",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["scam"] is not None
    assert "A123456789" not in data["redacted"] and "zelle" in data["redacted"]


def test_ask_jsonl_takes_the_language_of_each_line(kb_dir: Path) -> None:
    lines = [{"text": "parole", "lang": "ht"}, {"text": "parole", "lang": "en"}]
    done = bot("ask", "--knowledge", str(kb_dir), "--jsonl", stdin="".join(json.dumps(x) + "\n" for x in lines))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["lang"] for line in done.stdout.splitlines()] == ["ht", "en"]
