import pytest

from botkit.config import config_path, load_settings, save_setting
from botkit.errors import BotkitError


def test_defaults_live_under_botkit_home(home):
    settings = load_settings()
    assert settings.home == home
    assert settings.database_path.parent == home
    assert settings.model == "default"


def test_config_file_then_environment_override(home, monkeypatch):
    home.mkdir(parents=True)
    (home / "config.yaml").write_text("top_k: 7\nmodel: org/some-model\ndecoding:\n  strategy: sample\n")
    settings = load_settings()
    assert (settings.top_k, settings.model, settings.decoding.strategy) == (7, "org/some-model", "sample")
    monkeypatch.setenv("BOTKIT_TOP_K", "3")
    assert load_settings().top_k == 3


def test_unknown_key_is_a_clear_error(home):
    home.mkdir(parents=True)
    (home / "config.yaml").write_text("top_kk: 7\n")
    with pytest.raises(BotkitError, match="unknown setting 'top_kk'"):
        load_settings()


def test_bad_value_and_bad_yaml_are_one_line_errors(home):
    home.mkdir(parents=True)
    (home / "config.yaml").write_text("top_k: many\n")
    with pytest.raises(BotkitError, match="top_k"):
        load_settings()
    (home / "config.yaml").write_text("top_k: [\n")
    with pytest.raises(BotkitError, match="not valid YAML") as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_save_setting_keeps_other_settings(home):
    save_setting("top_k", 5)
    save_setting("model", "org/x")
    assert config_path() == home / "config.yaml"
    settings = load_settings()
    assert (settings.top_k, settings.model) == (5, "org/x")
    save_setting("model", None)
    assert load_settings().model == "default"


def test_a_file_that_is_not_a_mapping_is_one_line_error(home):
    home.mkdir(parents=True)
    (home / "config.yaml").write_text("- top_k\n- 7\n")
    with pytest.raises(BotkitError, match="must hold a mapping of settings, e.g. 'model: default'"):
        load_settings()


def test_environment_overrides_one_nested_setting_and_keeps_the_files_others(home, monkeypatch):
    home.mkdir(parents=True)
    (home / "config.yaml").write_text("decoding:\n  max_new_tokens: 77\n  strategy: greedy\n")
    monkeypatch.setenv("BOTKIT_DECODING__STRATEGY", "sample")
    settings = load_settings()
    assert (settings.decoding.max_new_tokens, settings.decoding.strategy) == (77, "sample")


def test_botkit_config_names_another_file(home, tmp_path, monkeypatch):
    other = tmp_path / "team.yaml"
    other.write_text("top_k: 9\n")
    monkeypatch.setenv("BOTKIT_CONFIG", str(other))
    assert load_settings().top_k == 9
