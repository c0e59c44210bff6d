"""The plugin machinery: loading, the env vars, task options, the CLI, and a third-party plugin
installed from examples/ and discovered through its entry point."""

import importlib.metadata
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from botkit import hookimpl, hookspecs
from botkit.errors import BotkitError
from botkit.plugins import DEFAULT_PLUGINS, get_tasks, load_plugin_manager
from botkit.tasks import ModelStep, chat_prompt, parse_option_pairs
from botkit.testing import FakeEngine

EXAMPLE = Path(__file__).parent.parent / "examples" / "botkit-plugin-example"


def test_builtin_plugins_load_like_any_other_and_every_hook_is_documented(monkeypatch):
    monkeypatch.delenv("BOTKIT_PLUGINS", raising=False)
    pm = load_plugin_manager()
    assert {m.rsplit(".", 1)[-1] for m in DEFAULT_PLUGINS} <= {pm.get_name(p) for p in pm.get_plugins()}
    assert "subject_lines" in get_tasks(pm)
    for name, spec in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("register_"):
            assert len((spec.__doc__ or "").strip()) > 40, f"{name} needs a docstring: it is the hook's documentation"


@pytest.mark.parametrize("allow, expected", [("", set()), ("subject_lines", {"subject_lines"}), ("nothing_here", set())])
def test_botkit_plugins_env_var_is_an_allow_list(monkeypatch, allow, expected):
    monkeypatch.setenv("BOTKIT_PLUGINS", allow)
    assert set(get_tasks(load_plugin_manager())) == expected


def test_trace_env_var_logs_hook_calls_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("BOTKIT_TRACE_PLUGINS", "1")
    get_tasks(load_plugin_manager())
    assert "register_tasks" in capsys.readouterr().err
    monkeypatch.setenv("BOTKIT_TRACE_PLUGINS", "0")
    get_tasks(load_plugin_manager())
    assert capsys.readouterr().err == ""


def test_two_tasks_with_one_name_is_an_error():
    from botkit.default_plugins.subject_lines import SubjectLines

    class Copycat:
        @hookimpl
        def register_tasks(self, register):
            register(SubjectLines())

    pm = load_plugin_manager()
    pm.register(Copycat(), "copycat")
    with pytest.raises(BotkitError, match="two plugins register a task named 'subject_lines'"):
        get_tasks(pm)


@pytest.mark.parametrize("name, text, options, message", [
    ("subject_lines", "kettles", {"bogus": 1}, "unknown option 'bogus' for subject_lines (options: n, preview, audience, seed)"),
    ("subject_lines", "kettles", {"n": "many"}, "bad option n for subject_lines"),
    ("subject_lines", "   ", {}, "the text is empty"),
    ("no_such_task", "kettles", {}, "unknown plugin 'no_such_task' (plugins: "),
])
def test_bad_requests_are_clear_errors(task_runner, name, text, options, message):
    with pytest.raises(BotkitError) as info:
        task_runner(name, text, **options)
    assert message in str(info.value)
    assert task_runner.engine.calls == []  # rejected before the model is asked anything


def test_option_pairs_from_the_command_line():
    assert parse_option_pairs(["n=3", "audience = tea lovers", "x=a=b"]) == {"n": "3", "audience": "tea lovers", "x": "a=b"}
    with pytest.raises(BotkitError, match="expects key=value, got 'n'"):
        parse_option_pairs(["n"])


def test_model_step_batches_in_one_engine_call_and_streams(settings):
    engine = FakeEngine(["one two three"])
    step = ModelStep(engine, settings.decoding)
    chain = chat_prompt("Be brief.") | step
    assert chain.batch(["a", "b", "c"]) == ["one two three"] * 3
    assert len(engine.calls) == 3 and engine.calls[0][0] == {"role": "system", "content": "Be brief."}
    assert "".join(chain.stream("hi")).strip() == "one two three"


# --- the CLI, as a user runs it ---------------------------------------------------------------

def botkit(*args, home, env=None, check=True):
    full_env = {**os.environ, "BOTKIT_HOME": str(home), **(env or {})}
    full_env.pop("BOTKIT_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "botkit", *args], capture_output=True, text=True, env=full_env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"botkit {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def test_cli_plugins_list_json_shows_tasks_with_typed_options(tmp_path):
    rows = json.loads(botkit("plugins", "list", "--json", home=tmp_path).stdout)
    subject = next(r for r in rows if r["name"] == "subject_lines")
    assert subject["description"]
    assert {"name": "n", "type": "int", "default": 5, "help": "How many subject lines."} in subject["options"]


def test_cli_run_on_the_tiny_model(tmp_path, tiny_model_dir):
    proc = botkit("run", "subject_lines", "Spring sale on kettles", "--option", "n=2", "-o", "preview=true", "--json",
                  home=tmp_path, env={"BOTKIT_MODEL": str(tiny_model_dir)})
    out = json.loads(proc.stdout)
    assert out["plugin"] == "subject_lines" and len(out["output"]) == 2
    assert all(len(row["subject"]) <= 60 and row["preview"] is not None for row in out["output"])


@pytest.mark.parametrize("args, message", [
    (("run", "nope", "hi"), "unknown plugin 'nope'"),
    (("run", "subject_lines", "hi", "-o", "tone=loud"), "unknown option 'tone' for subject_lines"),
    (("run", "subject_lines", " "), "the text is empty"),
    (("run", "subject_lines", "hi", "-o", "n"), "--option expects key=value"),
])
def test_cli_mistakes_are_one_line_errors(tmp_path, args, message):
    proc = botkit(*args, home=tmp_path, check=False)
    assert proc.returncode == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# --- a third-party plugin, installed from examples/ -------------------------------------------

@pytest.fixture(scope="module")
def example_plugin_installed():
    """pip-installs the example plugin into this venv (editable, no deps, no network) for the tests,
    and removes it afterwards unless it was already there."""
    try:
        importlib.metadata.distribution("botkit-plugin-example")
        already = True
    except importlib.metadata.PackageNotFoundError:
        already = False
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "--no-index", "-e", str(EXAMPLE)],
                   check=True, capture_output=True, timeout=300)
    yield EXAMPLE
    if not already:
        subprocess.run([*pip, "uninstall", "-y", "botkit-plugin-example"], check=True, capture_output=True, timeout=300)


def test_third_party_plugin_is_discovered_through_its_entry_point(example_plugin_installed, tmp_path, tiny_model_dir):
    names = {r["name"] for r in json.loads(botkit("plugins", "list", "--json", home=tmp_path).stdout)}
    assert {"shout", "subject_lines"} <= names
    only = json.loads(botkit("plugins", "list", "--json", home=tmp_path, env={"BOTKIT_PLUGINS": "shout"}).stdout)
    assert [r["name"] for r in only] == ["shout"]
    out = json.loads(botkit("run", "shout", "good morning", "--json", home=tmp_path,
                            env={"BOTKIT_MODEL": str(tiny_model_dir)}).stdout)["output"]
    assert out.strip() and out == out.upper()


def test_example_plugin_tests_pass_with_the_task_runner_fixture(example_plugin_installed):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example_plugin_installed)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
