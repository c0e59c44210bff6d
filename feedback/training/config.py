"""botkit's fields shared by every method's config (base model, parent, PEFT, held-out split), the
`cpu`/`gpu` profiles, and `load_config`: TRL's parser builds a config from them.

Precedence: TRL's and botkit's field defaults < the profile < the --config YAML file < flags.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from botkit.config import read_settings_yaml
from botkit.errors import BotkitError

PROFILES = Path(__file__).parent / "profiles"
# Short flags the README has always documented, for TrainingArguments fields whose names are long.
ALIASES = {"--epochs": "--num_train_epochs", "--batch-size": "--per_device_train_batch_size"}


@dataclass
class BotkitFields:
    """What botkit adds to a TRL config: where the run starts, its adapter, and its held-out split."""

    model: str = field(default="default", metadata={"help": "Base model: 'default' (SmolLM2-135M), a hub id, a "
                                                          "directory, or a registered version to start from."})
    parent: str | None = field(default=None, metadata={"help": "A registered version whose adapter this run "
                                                               "continues (same base)."})
    peft: Literal["lora", "prompt-tuning"] = field(default="lora", metadata={
        "help": "Parameter-efficient method: 'lora' or 'prompt-tuning' (soft prompts)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling (alpha)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: list[str] | None = field(default=None, metadata={
        "help": "Modules LoRA wraps; PEFT's per-architecture default when unset."})
    num_virtual_tokens: int = field(default=16, metadata={"help": "Soft-prompt length for prompt tuning."})
    max_prompt_length: int = field(default=128, metadata={
        "help": "Prompts longer than this many tokens are cut from the left, so responses are never cut."})
    test_fraction: float = field(default=0.2, metadata={
        "help": "Share of prompts held out for evaluation (a prompt is never on both sides)."})
    profile: str = field(default="cpu", metadata={
        "help": "The profile the settings started from (recorded with the run; choose it with --profile): "
                "'cpu' (float32, small batches) or 'gpu' (bf16, larger)."})

    method: ClassVar[str] = ""
    min_examples: ClassVar[int] = 4

    def check(self) -> None:
        """What TRL cannot check: botkit's own fields against each other."""
        if not 0 < self.test_fraction < 1:
            raise BotkitError("test_fraction must be between 0 and 1 (a held-out split is always kept)")
        max_length = getattr(self, "max_length", None)  # GRPO limits completions instead
        if max_length is not None and self.max_prompt_length >= max_length:
            raise BotkitError(f"max_prompt_length ({self.max_prompt_length}) must be below max_length ({max_length})")


class SettingsParser:
    """TRL's parser for one config class, with every mistake as one BotkitError line (argparse would
    print its usage and exit with status 2)."""

    def __init__(self, config_class: type):
        from trl import TrlParser

        class Parser(TrlParser):
            def error(self, message):
                raise BotkitError(f"{message} (see `botkit train {config_class.method} --help`)")

        self.config_class = config_class
        self.parser = Parser(config_class, usage=argparse.SUPPRESS, add_help=False, allow_abbrev=False)
        self.names = {f.name for f in dataclasses.fields(config_class)}

    def set_defaults(self, values: dict, where: str) -> None:
        unknown = sorted(set(values) - self.names)
        if unknown:
            raise BotkitError(f"{where}: unknown {self.config_class.method} setting(s) {', '.join(unknown)} "
                              f"(see `botkit train {self.config_class.method} --help`)")
        self.parser.set_defaults_with_config(**values)

    def parse(self, args: list[str]):
        args = [_canonical(a) for a in args]
        try:
            config, unused = self.parser.parse_args_into_dataclasses(args, return_remaining_strings=True)
        except ValueError as exc:  # TrainingArguments' and TRL's own checks in __post_init__
            raise BotkitError(f"{self.config_class.method} settings: {exc}") from None
        if unused:
            raise BotkitError(f"unknown option(s) {' '.join(unused)} "
                              f"(see `botkit train {self.config_class.method} --help`)")
        return config

    def help(self, profile: str = "cpu") -> str:
        """Every setting with its help and its default under `profile`."""
        self.set_defaults(profile_values(profile, self.config_class), f"profile {profile}")
        return self.parser.format_help()


def _canonical(arg: str) -> str:
    flag, equals, value = arg.partition("=")
    return ALIASES.get(flag, flag) + equals + value


def profile_values(profile: str, config_class: type) -> dict:
    """A profile's settings for a method: its top-level keys that the method's config has (GRPO has
    no `max_length`, say), then the method's own section over them."""
    path = PROFILES / f"{profile}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
        raise BotkitError(f"profile must be one of {known}, not '{profile}'")
    data = read_settings_yaml(path, "learning_rate: 1.0e-4")
    names = {f.name for f in dataclasses.fields(config_class)}
    return {**{k: v for k, v in data.items() if k in names}, **(data.get(config_class.method) or {})}


def load_config(config_class: type, config_file: Path | None = None, profile: str | None = None,
                args: list[str] = (), **overrides):
    """`config_class` from its defaults, a profile, a YAML file, keyword overrides (None: not given) and
    command-line `args` (e.g. ['--beta', '0.2']), in that order of precedence."""
    file_values = {}
    if config_file:
        if not Path(config_file).exists():
            raise BotkitError(f"{config_file}: no such file")
        file_values = read_settings_yaml(Path(config_file), "learning_rate: 1.0e-4")
    profile = profile or file_values.get("profile") or "cpu"
    parser = SettingsParser(config_class)
    parser.set_defaults(profile_values(profile, config_class), f"profile {profile}")
    parser.set_defaults(file_values, str(config_file))
    parser.set_defaults({k: v for k, v in overrides.items() if v is not None} | {"profile": profile}, "settings")
    config = parser.parse(list(args))
    config.check()
    return config
