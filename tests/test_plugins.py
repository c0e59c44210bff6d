"""The plugin machinery: loading, the env vars, task options, the hooks for scorers and model
sources, the CLI, and a third-party plugin installed from examples/ and discovered through its
entry point."""

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from botkit import hookimpl, hookspecs
from botkit.errors import BotkitError
from botkit.models.catalog import list_models
from botkit.models.loading import resolve_model
from botkit.plugins import DEFAULT_PLUGINS, ESSENTIAL_PLUGINS, get_tasks, load_plugin_manager, plugin_manager
from botkit.tasks import ModelStep, chat_prompt
from botkit.testing import FakeEngine

EXAMPLE = Path(__file__).parent.parent / "examples" / "botkit-plugin-example"


def test_builtin_plugins_load_like_any_other_and_every_hook_is_documented(monkeypatch):
    monkeypatch.delenv("BOTKIT_PLUGINS", raising=False)
    pm = load_plugin_manager()
    loaded = {pm.get_name(p) for p in pm.get_plugins()}
    assert {m.rsplit(".", 1)[-1] for m in DEFAULT_PLUGINS} | set(ESSENTIAL_PLUGINS) <= loaded
    assert "subject_lines" in get_tasks(pm)
    specs = [name for name, _ in inspect.getmembers(pm.hook) if not name.startswith("_")]
    assert {"register_tasks", "register_document_loaders", "register_scorers", "register_model_sources"} <= set(specs)
    for name in specs:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert len(doc.strip()) > 40, f"{name} needs a docstring: it is the hook's documentation"


@pytest.mark.parametrize("allow, expected",
                         [("", set()), ("subject_lines", {"subject_lines"}), ("nothing_here", set())])
def test_botkit_plugins_env_var_is_an_allow_list(monkeypatch, allow, expected):
    monkeypatch.setenv("BOTKIT_PLUGINS", allow)
    pm = load_plugin_manager()
    assert set(get_tasks(pm)) == expected
    # The essential plugins load whatever the list says: botkit still reads documents and finds versions.
    assert all(pm.has_plugin(name) for name in ESSENTIAL_PLUGINS)


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
    ("subject_lines", "kettles", {"bogus": 1},
     "unknown option 'bogus' for subject_lines (options: n, preview, audience, seed, ideas)"),
    ("subject_lines", "kettles", {"n": "many"}, "bad option n for subject_lines"),
    ("subject_lines", "   ", {}, "the text is empty"),
    ("no_such_task", "kettles", {}, "unknown plugin 'no_such_task' (plugins: "),
])
def test_bad_requests_are_clear_errors(task_runner, name, text, options, message):
    with pytest.raises(BotkitError) as info:
        task_runner(name, text, **options)
    assert message in str(info.value)
    assert task_runner.engine.calls == []  # rejected before the model is asked anything


def test_model_step_batches_in_one_engine_call_and_streams(settings):
    engine = FakeEngine(["one two three"])
    step = ModelStep(engine, settings.decoding)
    chain = chat_prompt("Be brief.") | step
    assert chain.batch(["a", "b", "c"]) == ["one two three"] * 3
    assert len(engine.calls) == 3 and engine.calls[0][0] == {"role": "system", "content": "Be brief."}
    assert "".join(chain.stream("hi")).strip() == "one two three"


@pytest.fixture
def registered():
    """Registers plugin objects on the process-wide manager for one test, then removes them."""
    added = []

    def register(plugin, name):
        plugin_manager().register(plugin, name)
        added.append(plugin)

    yield register
    for plugin in added:
        plugin_manager().unregister(plugin)


def test_a_plugin_scorer_ranks_copy_before_the_builtin_brand_similarity(task_runner, registered):
    short, long = "Spring kettles", "Our spring sale covers every kettle we make"
    task_runner.engine.responses = [long, short]
    # A copy model other than the default one: its lines are variants (the default model's are only ideas).
    task_runner.bot.settings.copy_model, task_runner.bot._copy_engine = "a-stronger/model", task_runner.engine
    def model_lines():  # the brief's own line ("Spring sale") is shown too: the scorers order the model's
        return [r["subject"] for r in task_runner("subject_lines", "Spring sale", n=3) if r["written_by"] == "model"]

    builtin = model_lines()
    assert sorted(builtin) == sorted([short, long])

    class Reversed:  # ranks the two the other way round from brand similarity
        @hookimpl
        def register_scorers(self, register):
            register("reversed", lambda bot: lambda texts: [builtin.index(t) if t in builtin else -1 for t in texts])
            register("reward_model", lambda bot: None)  # nothing trained yet: not available, skipped

    registered(Reversed(), "reversed")
    assert model_lines() == builtin[::-1]


def test_a_plugin_model_source_makes_its_names_usable_as_models(settings, tiny_model_dir, registered):
    class HouseModels:
        @staticmethod
        def resolve(spec, cache_dir):
            return (str(tiny_model_dir), None) if spec == "house-model" else None

        @staticmethod
        def list_models(active):
            return [{"name": "house-model", "kind": "chat", "status": "ours", "location": str(tiny_model_dir),
                     "active": active == "house-model"}]

    class Plugin:
        @hookimpl
        def register_model_sources(self, register):
            register(HouseModels())

    with pytest.raises(BotkitError, match="unknown model 'house-model'"):
        resolve_model("house-model", settings.cache_dir)
    registered(Plugin(), "house")
    assert resolve_model("house-model", settings.cache_dir) == (str(tiny_model_dir), None)
    assert {"name": "house-model", "kind": "chat", "status": "ours", "location": str(tiny_model_dir),
            "active": False} in list_models()


# --- the CLI, as a user runs it ---------------------------------------------------------------

def test_cli_plugins_list_json_shows_tasks_with_typed_options(tmp_path, botkit_cli):
    rows = json.loads(botkit_cli("plugins", "list", "--json", home=tmp_path).stdout)
    subject = next(r for r in rows if r["name"] == "subject_lines")
    assert subject["description"]
    assert {"name": "n", "type": "int", "default": 5, "help": "How many subject lines."} in subject["options"]


def test_cli_run_on_the_tiny_model(tmp_path, botkit_cli, tiny_model_dir):
    proc = botkit_cli("run", "subject_lines", "Spring sale on kettles", "--option", "n=2", "-o", "preview=true",
                      "--json", home=tmp_path, env={"BOTKIT_MODEL": str(tiny_model_dir)})
    out = json.loads(proc.stdout)
    # A random model's lines rarely pass the copy checks: fewer rows then, and the reply says why.
    assert out["plugin"] == "subject_lines" and (len(out["output"]) == 2 or "passed the checks" in out["text"])
    assert all(len(row["subject"]) <= 60 and row["preview"] is not None for row in out["output"])


def test_cli_run_says_under_the_table_when_fewer_than_asked_passed(tmp_path, botkit_cli, tiny_model_dir):
    # The random model's lines never pass; lines made of the brief's words do, fewer than 6 of them.
    proc = botkit_cli("run", "subject_lines", "Spring sale: 20% off every kettle until March 31", "-o", "n=6",
                      home=tmp_path, env={"BOTKIT_MODEL": str(tiny_model_dir)})
    table, _, notes = proc.stdout.partition("└")
    assert "subject" in table and "20% off" in table  # the lines that passed, as a table
    assert "preview" not in table and "None" not in table  # no preview was asked for: no column of "None"
    assert "of 6 variants asked for passed the checks" in notes
    assert not any(line.startswith("_") for line in notes.splitlines())  # chat's italics marks are not printed


@pytest.mark.parametrize("args, message", [
    (("run", "nope", "hi"), "unknown plugin 'nope'"),
    (("run", "subject_lines", "hi", "-o", "tone=loud"), "unknown option 'tone' for subject_lines"),
    (("run", "subject_lines", " "), "the text is empty"),
    (("run", "subject_lines", "hi", "-o", "n"), "--option expects key=value"),
])
def test_cli_mistakes_are_one_line_errors(tmp_path, botkit_cli, args, message):
    proc = botkit_cli(*args, home=tmp_path, check=False)
    assert proc.returncode == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# --- a third-party plugin, installed from examples/ -------------------------------------------

@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    """The example plugin pip-installed (no deps, no network) into a throwaway folder, never into this
    venv; processes started with it on PYTHONPATH find its entry point. Built from a copy, so the
    build leaves nothing in examples/."""
    work = tmp_path_factory.mktemp("example-plugin")
    shutil.copytree(EXAMPLE, work / "src")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(work / "site"), str(work / "src")], check=True, capture_output=True, timeout=300)
    return work / "site"


def test_third_party_plugin_is_discovered_through_its_entry_point(example_site, tmp_path, botkit_cli, tiny_model_dir):
    assert "shout" not in {r["name"] for r in json.loads(botkit_cli("plugins", "list", "--json", home=tmp_path).stdout)}
    listed = botkit_cli("plugins", "list", "--json", home=tmp_path, site=example_site).stdout
    names = {r["name"] for r in json.loads(listed)}
    assert {"shout", "subject_lines"} <= names
    only = json.loads(botkit_cli("plugins", "list", "--json", home=tmp_path, env={"BOTKIT_PLUGINS": "shout"},
                             site=example_site).stdout)
    assert [r["name"] for r in only] == ["shout"]
    out = json.loads(botkit_cli("run", "shout", "good morning", "--json", home=tmp_path, site=example_site,
                            env={"BOTKIT_MODEL": str(tiny_model_dir)}).stdout)["output"]
    assert out.strip() and out == out.upper()


def test_example_plugin_tests_pass_with_the_task_runner_fixture(example_site, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(example_site)}
    test_file = example_site.parent / "src" / "test_shout.py"  # the copy: bytecode is written beside it
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
