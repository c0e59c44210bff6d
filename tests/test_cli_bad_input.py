"""Bad input on every `botkit` command: empty, malformed, huge (10 MB), binary and non-UTF-8 files and
arguments give one `error:` line and exit status 1, never a traceback, and lose nothing stored.

The matrix runs `botkit.cli.main` in this process (the function the `botkit` script calls, with
sys.argv set as the shell would set it): some 250 cases, each a separate process would take 5-10 s
here. A few cases also run as real processes through `botkit_cli`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys

import pytest
import typer

from botkit.cli.commands import app, main

HUGE = 10 * 1024 * 1024
ARG_MAX = 100_000  # one argv string may hold at most 128 KiB on Linux: the biggest a shell can pass
FILE_KINDS = ("missing", "folder", "empty", "malformed", "huge", "binary", "latin-1")
# What the shell hands Python for bytes that are not UTF-8 (surrogateescape), like `botkit ask $'\xff'`.
NOT_UTF8 = os.fsdecode(b"caf\xe9 \xff\xfe")
ARG_KINDS = {"empty": "", "blank": "   ", "huge": "x" * ARG_MAX, "not-utf-8": NOT_UTF8,
             "control": "\x01\x02\x1b[31m\x7f", "markup": "[/] [bold]x"}


def write_bad_file(folder, kind: str, suffix: str):
    """A file (or a folder, or nothing) named like the command expects, holding `kind` of bad content."""
    path = folder / f"{kind}{suffix}"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "malformed":
        path.write_bytes(b'{"prompt": "unterminated\nnot json at all\n[1, 2\n')
    elif kind == "huge":  # one line of 10 MB: a reader that holds it must not crash on it
        path.write_bytes(b'{"text": "' + b"a" * HUGE + b'"\n')
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4096)
    elif kind == "latin-1":
        path.write_bytes('{"prompt": "Caf\u00e9 cr\u00e8me", "chosen": "s\u00fbr", "rejected": "non"}\n'
                         .encode("latin-1"))
    return path


# (command words, where the bad file goes ("FILE" in the words), the file's suffix, the kinds that are
# bad for it). Every file a command reads is here; test_every_command_is_covered fails when a new
# command is not. Any text is valid Markdown, and a folder is what `ingest` reads best, so those pass.
ALL = FILE_KINDS
TEXT_DOC = ("missing", "binary", "latin-1")


def _gap(reason: str):
    """A case botkit still gets wrong, in a module this change does not own: it fails today (strict),
    so the mark must go when it is fixed."""
    return pytest.mark.xfail(strict=True, reason=reason)


FILE_CASES = [
    (["ingest", "FILE"], ".md", TEXT_DOC),
    (["ingest", "FILE"], ".jsonl", ("missing", "empty", "malformed", "huge", "binary", "latin-1")),
    (["ingest", "FILE"], ".pdf", ("missing", "empty", "malformed", "huge", "binary", "latin-1")),
    (["feedback", "import", "FILE"], ".jsonl", ALL),
    (["feedback", "generate", "FILE"], ".jsonl", ALL),
    (["eval", "grounding", "--questions", "FILE"], ".jsonl", ALL),
    (["eval", "task", "subject_lines", "FILE"], ".jsonl", ALL),
    (["eval", "compare", "default", "default", "--prompts", "FILE"], ".jsonl", ALL),
    (["train", "sft", "--data", "FILE", "--out", "bad-input-run"], ".jsonl", ALL),
    (["train", "dpo", "--data", "FILE", "--out", "bad-input-run"], ".jsonl", ALL),
    (["train", "dpo", "--data", "PAIRS", "--config", "FILE", "--out", "bad-input-run"], ".yaml", ALL),
    (["sentiment", "train", "FILE", "--out", "OUTDIR"], ".jsonl", ALL),
    (["sentiment", "eval", "FILE"], ".jsonl", ALL),
    (["sentiment", "predict", "FILE"], ".jsonl", ALL),
    (["restore", "FILE", "--force"], ".tar.gz", ALL),
    (["models", "use", "FILE"], ".gguf", ("folder", "empty", "malformed", "huge", "binary", "latin-1")),
    (["models", "use", "default", "--adapter", "FILE"], "", ALL),
]
KNOWN_FILE_GAPS: dict = {}


def _tier(words: list[str]) -> list:
    """Commands that load a model or an embedder when the input passes its first check: slow tier."""
    loads = words[0] in ("ask", "run", "eval", "train", "sentiment", "ingest") or words[:2] == ["feedback", "generate"]
    return [pytest.mark.slow] if loads else []


def _file_params():
    for words, suffix, kinds in FILE_CASES:
        for kind in kinds:
            gap = KNOWN_FILE_GAPS.get((" ".join(words[:2]), suffix, kind))
            yield pytest.param(words, suffix, kind, marks=_tier(words) + ([gap] if gap else []),
                               id=f"{' '.join(words[:2])}{suffix}-{kind}")


# (command words with "ARG" where the bad argument goes, the kinds that must be refused). Free text
# (a question, a brief) may be answered instead; names, ids, dates, paths and choices must be refused.
NAMES = tuple(ARG_KINDS)
FREE_TEXT = ("empty", "blank", "not-utf-8")
ARG_CASES = [
    (["ask", "ARG"], FREE_TEXT),
    (["run", "subject_lines", "ARG"], FREE_TEXT),
    (["run", "ARG", "Spring sale"], NAMES),
    (["run", "subject_lines", "Spring sale", "-o", "ARG"], NAMES),
    (["keys", "create", "--name", "ARG"], ("empty", "blank", "not-utf-8")),
    (["keys", "create", "--name", "ok-name", "--scope", "ARG"], NAMES),
    (["keys", "revoke", "ARG"], NAMES),
    (["models", "use", "ARG"], NAMES),
    (["models", "promote", "ARG"], NAMES),
    (["feedback", "import", "PAIRS", "--annotator", "ARG"], ("empty", "blank", "not-utf-8")),
    (["feedback", "export", "ARG"], ("empty", "blank", "huge", "not-utf-8")),
    (["feedback", "export", "OUT", "--since", "ARG"], ("blank", "huge", "not-utf-8", "control", "markup")),
    (["feedback", "export", "OUT", "--format", "ARG"], NAMES),
    (["feedback", "generate", "PROMPTS", "--versions", "ARG"], NAMES),
    (["feedback", "generate", "PROMPTS", "--decodings", "ARG"], NAMES),
    (["eval", "rm", "ARG", "--data", "PAIRS"], NAMES),
    (["eval", "compare", "ARG", "default", "--prompts", "PROMPTS"], NAMES),
    (["train", "dpo", "--data", "PAIRS", "--out", "ARG"], NAMES),
    (["backup", "ARG"], ("empty", "huge", "not-utf-8")),
    (["restore", "ARG"], NAMES),
    (["feedback", "annotators", "add", "ARG"], ("empty", "blank", "not-utf-8")),
    (["init", "--yes", "--name", "ARG"], ("not-utf-8",)),
]


KNOWN_ARG_GAPS: dict = {}


def _arg_params():
    for words, refused in ARG_CASES:
        for kind in ARG_KINDS:
            gap = KNOWN_ARG_GAPS.get((" ".join(words[:3]), kind))
            yield pytest.param(words, kind, kind in refused, marks=_tier(words) + ([gap] if gap else []),
                               id=f"{' '.join(words[:3])}-{kind}")


# Commands that read no file and take no free text: their bad input is a malformed option value.
# typer reports a usage mistake (an unknown option, a value of the wrong type) in its own box with
# status 2; that is no traceback, but not yet botkit's one `error:` line either.
OTHER_CASES = [
    ["chat", "--session", NOT_UTF8],
    ["serve", "--port", "-5"],
    ["app", "--port", "not-a-port"],
    ["models", "list", "--json", "extra"],
    ["models", "pull", NOT_UTF8],
    ["models", "rollback"],
    ["plugins", "list", "--bogus"],
    ["feedback", "stats", "--json", "extra"],
    ["train", "runs", "extra"],
    ["train", "rm", "--data", "PAIRS", "--out", "x", "--batch-size", "lots"],
    ["train", "rl", "--data", "PROMPTS", "--out", "x", "--reward-model", NOT_UTF8],
    ["keys", "list", "extra"],
    ["feedback", "annotators", "list", "extra"],
    ["feedback", "fewshot", "promote", "--min-annotators", "0"],
]


def _leaf_commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


def _covered(words: list[str]) -> str:
    known = set(_leaf_commands(typer.main.get_command(app)))
    return next((" ".join(words[:n]) for n in (3, 2, 1) if " ".join(words[:n]) in known), words[0])


def test_every_command_is_covered():
    cases = [w for w, _, _ in FILE_CASES] + [w for w, _ in ARG_CASES] + OTHER_CASES
    assert set(_leaf_commands(typer.main.get_command(app))) == {_covered(w) for w in cases}


@pytest.fixture(scope="module")
def template(tmp_path_factory, embedder, polite_vs_shouting, write_jsonl):
    """A home with something in every store: judged pairs, an API key, an ingested document, a config."""
    from botkit.config import load_settings
    from botkit.database import open_database
    from botkit.dialogue import Bot
    from botkit.feedback.store import RankingStore
    from botkit.prompting.brand import sample_brand_dir
    from botkit.server.keys import KeyStore

    root = tmp_path_factory.mktemp("bad-input")
    home = root / "home"
    settings = load_settings(home=home)
    store = RankingStore.open(settings)
    store.import_trl(write_jsonl(root / "pairs.jsonl", polite_vs_shouting(6)))
    KeyStore(open_database(settings.database_path)).create("support-desk", "chat")
    Bot(settings, embedder=embedder).knowledge.ingest(sample_brand_dir() / "knowledge" / "shipping.md")
    (home / "config.yaml").write_text("fewshot_k: 1\n")
    write_jsonl(root / "prompts.jsonl", [{"prompt": "Write a line about our kettle."}])
    return root


def _state(home) -> dict:
    """What a user would miss: every table's rows and the config file."""
    conn = sqlite3.connect(home / "botkit.db")
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'sqlite_%'")]
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()
    return {"rows": rows, "config": (home / "config.yaml").read_text()}


@pytest.fixture
def workspace(template, tmp_path, monkeypatch, tiny_model_dir):
    """A fresh copy of the template home, on the tiny model, as BOTKIT_HOME."""
    shutil.copytree(template, tmp_path / "ws")
    ws = tmp_path / "ws"
    monkeypatch.chdir(ws)  # an output path given as a bare name lands here, never in the repository
    monkeypatch.setenv("BOTKIT_HOME", str(ws / "home"))
    monkeypatch.delenv("BOTKIT_CONFIG", raising=False)
    monkeypatch.setenv("BOTKIT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BOTKIT_ENGINE", "transformers")
    return ws


def run_botkit(words: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """`botkit WORDS` as the console script runs it: exit status, stdout, stderr. An exception other
    than SystemExit would be a traceback for the user, and fails the test with it."""
    monkeypatch.setattr(sys, "argv", ["botkit", *words])
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, err: str, words) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, (
        f"botkit {' '.join(w[:60] for w in words)} exited {code}:\n{err[-3000:]}")


def _fill(words: list[str], ws, bad=None) -> list[str]:
    names = {"PAIRS": ws / "pairs.jsonl", "PROMPTS": ws / "prompts.jsonl", "OUT": ws / "out.jsonl",
             "OUTDIR": ws / "sentiment-out", "FILE": bad, "ARG": bad}
    return [str(names[w]) if w in names and names[w] is not None and not isinstance(names[w], str)
            else (names[w] if w in names else w) for w in words]


@pytest.mark.parametrize("words,suffix,kind", _file_params())
def test_a_bad_file_is_one_error_line_and_loses_nothing(words, suffix, kind, workspace, capsys, monkeypatch):
    before = _state(workspace / "home")
    bad = write_bad_file(workspace, kind, suffix) if kind != "missing" else workspace / f"missing{suffix}"
    args = _fill(words, workspace, bad)
    code, out, err = run_botkit(args, capsys, monkeypatch)
    assert_one_error_line(code, err, args)
    assert _state(workspace / "home") == before


@pytest.mark.parametrize("words,kind,refused", _arg_params())
def test_a_bad_argument_is_one_error_line_and_loses_nothing(words, kind, refused, workspace, capsys, monkeypatch):
    before = _state(workspace / "home")
    args = _fill(words, workspace, ARG_KINDS[kind])
    code, out, err = run_botkit(args, capsys, monkeypatch)
    if refused or code != 0:
        assert_one_error_line(code, err, args)
    assert "Traceback" not in err
    after = _state(workspace / "home")
    assert after == before if code else all(before["rows"][t] <= n for t, n in after["rows"].items())


@pytest.mark.parametrize("words", [pytest.param(w, marks=_tier(w), id=" ".join(w[:3])) for w in OTHER_CASES])
def test_a_malformed_option_is_refused_without_a_traceback(words, workspace, capsys, monkeypatch):
    before = _state(workspace / "home")
    args = _fill(words, workspace)
    code, out, err = run_botkit(args, capsys, monkeypatch)
    assert code != 0 and "Traceback" not in err and err.strip(), err[-2000:]  # uvicorn exits 3 on a bad port
    if code == 1:
        assert_one_error_line(code, err, args)
    assert _state(workspace / "home") == before


@pytest.mark.parametrize("content", [bytes(range(256)) * 64, "Café crème\n".encode("latin-1")],
                         ids=["binary", "latin-1"])
def test_importing_a_file_that_is_not_utf8_in_a_real_process(content, tmp_path, botkit_cli):
    bad = tmp_path / "pairs.jsonl"
    bad.write_bytes(content)
    done = botkit_cli("feedback", "import", str(bad), home=tmp_path / "home", check=False)
    assert done.returncode == 1 and done.stdout == ""
    first = content.index(next(b for b in content if b > 127))
    line = content[:first].count(b"\n") + 1
    assert done.stderr.strip().splitlines() == [
        f"error: {bad} is not UTF-8 text (byte {first} on line {line}): save it as UTF-8"]


def test_a_valid_import_after_bad_ones_still_works(workspace, capsys, monkeypatch):
    """Bad files leave the store able to take good ones: the import the user retries works."""
    pairs = json.loads(run_botkit(["feedback", "stats", "--json"], capsys, monkeypatch)[1])["counts"]["pairs"]
    for kind in ("binary", "latin-1", "malformed"):
        run_botkit(["feedback", "import", str(write_bad_file(workspace, kind, ".jsonl"))], capsys, monkeypatch)
    good = workspace / "good.jsonl"
    row = {"prompt": "Caf\u00e9?", "chosen": "Oui \u2028 bien s\u00fbr", "rejected": "Non"}
    good.write_text(json.dumps(row, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    code, out, err = run_botkit(["feedback", "import", str(good), "--json"], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["pairs"] == 1
    after = json.loads(run_botkit(["feedback", "stats", "--json"], capsys, monkeypatch)[1])["counts"]["pairs"]
    assert after == pairs + 1
