"""Model versions: every finished training run registered with its base, adapter, parent, data
snapshot, config and metrics; promotion (with a human-judgement gate; a reward version is promoted
to rank best-of-N once measured against brand similarity), rollback, and the lookup that lets a
version's name be used wherever a model spec is accepted.

A version row is written only after its adapter files are complete, so a killed run is never listed.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import sqlite_utils

from botkit.config import load_settings, save_setting
from botkit.database import open_database
from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore
from botkit.hookspecs import hookimpl
from botkit.models.default import DEFAULT_ALIASES, DEFAULT_MODEL
from botkit.models.loading import model_label, resolve_model
from botkit.sessions import now

VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_JSON_FIELDS = ("data", "config", "metrics")


def models_dir(settings) -> Path:
    return Path(settings.home) / "models"


def check_name(name: str) -> str:
    if not VERSION_NAME.match(name or ""):
        raise BotkitError(f"'{name}' is not a usable version name: use letters, digits, '.', '_' or '-' "
                          "(no '/', at most 64 characters), e.g. brand-dpo-1")
    return name


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ModelRegistry:
    """Read and write model versions, promotions and training runs in the one SQLite database."""

    def __init__(self, db: sqlite_utils.Database, settings=None):
        self.db = db
        self.settings = settings or load_settings()

    @classmethod
    def open(cls, settings=None) -> ModelRegistry:
        settings = settings or load_settings()
        return cls(open_database(Path(settings.database_path)), settings)

    # versions ---------------------------------------------------------------------------------

    def register(self, name: str, *, kind: str, method: str, base: str, adapter_path: Path, parent: str | None,
                 data: dict, config: dict, metrics: dict, finishes_run: bool = False) -> dict:
        """Add a finished version. Call only once its files are complete. With `finishes_run`, the
        training run of the same name is marked finished in the same transaction, so a kill between
        the two never leaves a registered version whose run says it was interrupted."""
        if not (Path(adapter_path) / "adapter_config.json").exists():
            raise BotkitError(f"{adapter_path} has no adapter_config.json: refusing to register an incomplete version")
        row = {"name": check_name(name), "kind": kind, "method": method, "base": base,
               "adapter_path": str(adapter_path), "parent": parent, "data": json.dumps(data),
               "config": json.dumps(config, default=str), "metrics": json.dumps(metrics, default=str),
               "created_at": now()}
        with RankingStore(self.db).write():
            try:
                self.db.execute(f"INSERT INTO model_versions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                list(row.values()))
            except sqlite3.IntegrityError as exc:
                raise BotkitError(f"a version named {name} is already registered") from exc
            if finishes_run:
                self.db.execute("UPDATE training_runs SET status = 'finished', updated_at = ?, error = NULL "
                                "WHERE name = ?", [now(), name])
        return self.version(name)

    def get(self, name: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM model_versions WHERE name = ?", [name]))
        return _decoded(rows[0]) if rows else None

    def version(self, name: str) -> dict:
        row = self.get(name)
        if row is None:
            known = ", ".join(v["name"] for v in self.versions()) or "none yet: `botkit train ...` makes one"
            raise BotkitError(f"no model version named '{name}' (registered: {known})")
        return row

    def versions(self, kind: str | None = None) -> list[dict]:
        sql = "SELECT * FROM model_versions" + (" WHERE kind = ?" if kind else "") + " ORDER BY created_at, name"
        return [_decoded(r) for r in self.db.query(sql, [kind] if kind else [])]

    def latest(self, kind: str) -> dict | None:
        rows = self.versions(kind)
        return rows[-1] if rows else None

    # training runs ----------------------------------------------------------------------------

    def start_run(self, name: str, method: str, run_dir: Path) -> None:
        existing = self.run(name)
        running = existing and existing["status"] == "running"
        if running and existing["pid"] != os.getpid() and pid_alive(existing["pid"]):
            raise BotkitError(f"{name} is being trained right now by process {existing['pid']}")
        self.db["training_runs"].upsert({"name": name, "method": method, "status": "running", "pid": os.getpid(),
                                         "run_dir": str(run_dir), "started_at": now(), "updated_at": now(),
                                         "error": None}, pk="name")

    def end_run(self, name: str, status: str, error: str | None = None) -> None:
        self.db["training_runs"].update(name, {"status": status, "updated_at": now(), "error": error})

    def run(self, name: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM training_runs WHERE name = ?", [name]))
        return rows[0] if rows else None

    def runs(self) -> list[dict]:
        """Training runs, newest first; a 'running' run whose process is gone shows as 'interrupted'."""
        rows = list(self.db.query("SELECT * FROM training_runs ORDER BY started_at DESC"))
        for r in rows:
            if r["status"] == "running" and not pid_alive(r["pid"]):
                r["status"] = "interrupted"
        return rows

    # promotion ----------------------------------------------------------------------------------

    def gate(self, name: str, *, min_win_rate: float | None = None, min_judgements: int | None = None) -> dict:
        """Human judgements of `name` against the active model, from the ranking store. The thresholds
        default to the settings `promotion_min_win_rate` and `promotion_min_judgements`."""
        settings = load_settings()  # fresh: a promotion since this registry was opened changed the active model
        min_win_rate = settings.promotion_min_win_rate if min_win_rate is None else min_win_rate
        min_judgements = settings.promotion_min_judgements if min_judgements is None else min_judgements
        candidate, current = version_label(name), active_label(settings)
        wins, n = 0.0, 0
        from botkit.feedback.ratings import win_rates  # deferred: scikit-learn, needed only to promote

        rows = [c for c in RankingStore(self.db).comparisons() if {c["a_model"], c["b_model"]} == {candidate, current}]
        for r in win_rates(rows):
            if r["model"] == candidate:
                wins, n = r["win_rate"] * r["n"], r["n"]
        win_rate = wins / n if n else None
        passed = n >= min_judgements and win_rate is not None and win_rate >= min_win_rate
        if passed:
            reason = f"{candidate} won {win_rate:.0%} of {n} judgements against {current}"
        elif n < min_judgements:
            reason = (f"{candidate} has {n} human judgement(s) against {current}, the gate needs {min_judgements}: "
                      "compare them (`botkit eval compare`) and rank the pairs in the app's Rank page")
        else:
            reason = (f"{candidate} won {win_rate:.0%} of {n} judgements against {current}, "
                      f"the gate needs {min_win_rate:.0%}")
        return {"candidate": candidate, "current": current, "win_rate": win_rate, "judgements": n,
                "min_win_rate": min_win_rate, "min_judgements": min_judgements, "passed": passed, "reason": reason}

    def promote(self, name: str, *, force: bool = False, min_win_rate: float | None = None,
                min_judgements: int | None = None) -> dict:
        """Make `name` the chat model (config.yaml), unless the gate blocks it and `force` is off."""
        version = self.version(name)
        if version["kind"] == "reward":
            return self.promote_reward(name)
        settings = load_settings()
        if settings.model == name and not settings.adapter:
            raise BotkitError(f"{name} is already the active model")
        gate = self.gate(name, min_win_rate=min_win_rate, min_judgements=min_judgements)
        if not gate["passed"] and not force:
            raise BotkitError(f"promotion blocked: {gate['reason']}; or pass --force")
        with self.db.conn:
            self.db["promotions"].insert({"version": name, "previous_model": settings.model,
                                          "previous_adapter": settings.adapter, "forced": int(not gate["passed"]),
                                          "gate": json.dumps(gate), "promoted_at": now(), "rolled_back_at": None})
        save_setting("model", name)
        save_setting("adapter", None)
        return {"promoted": name, "previous": settings.model, "previous_adapter": settings.adapter,
                "gate": gate, "forced": not gate["passed"]}

    def promote_reward(self, name: str, *, embedder=None, examples: list[str] | None = None) -> dict:
        """Make reward version `name` the ranker of best-of-N and the Rank queue (setting `reward_model`),
        after measuring it against brand similarity on its held-out pairs (recorded in its metrics as
        `vs_brand_similarity`): it ranks only if it beat brand similarity there."""
        from botkit.feedback.reward_ranking import against_brand_similarity

        settings = load_settings()
        comparison = against_brand_similarity(name, settings, embedder=embedder, examples=examples)
        metrics = {**(self.version(name)["metrics"] or {}), "vs_brand_similarity": comparison}
        self.db["model_versions"].update(name, {"metrics": json.dumps(metrics, default=str)})
        save_setting("reward_model", name)
        return {"promoted": name, "kind": "reward", "previous": settings.reward_model, "forced": False,
                "vs_brand_similarity": comparison, "ranks_best_of_n": comparison["beats"]}

    def rollback(self) -> dict:
        """Undo the newest promotion still in force: the model (and adapter) active before it come back."""
        rows = list(self.db.query("SELECT * FROM promotions WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1"))
        if not rows:
            raise BotkitError("nothing to roll back: no promotion in force (see `botkit models list`)")
        last = rows[0]
        self.db["promotions"].update(last["id"], {"rolled_back_at": now()})
        save_setting("model", last["previous_model"])
        save_setting("adapter", last["previous_adapter"])
        return {"rolled_back": last["version"], "active": last["previous_model"], "adapter": last["previous_adapter"]}

    def promotions(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM promotions ORDER BY id DESC"))


def _decoded(row: dict) -> dict:
    return {k: (json.loads(v) if k in _JSON_FIELDS and v else v) for k, v in row.items()}


def registered_version(spec: str) -> dict | None:
    """The registered version named `spec` in the current BOTKIT_HOME, or None (never creates a database)."""
    if not VERSION_NAME.match(spec or ""):
        return None
    settings = load_settings()
    if not Path(settings.database_path).exists():
        return None
    db = open_database(Path(settings.database_path))
    if "model_versions" not in db.table_names():
        return None
    return ModelRegistry(db, settings).get(spec)


def resolve_version(spec: str, cache_dir: Path) -> tuple[str, str] | None:
    """(base to load, adapter dir) for a registered policy version, None for any other spec."""
    version = registered_version(spec)
    if version is None:
        return None
    if version["kind"] != "policy":
        raise BotkitError(f"{spec} is a reward model, not a chat model: use a policy version")
    adapter = Path(version["adapter_path"])
    if not (adapter / "adapter_config.json").exists():
        raise BotkitError(f"version {spec}'s adapter is missing from {adapter}")
    base, _ = resolve_model(version["base"], cache_dir)
    check_adapter_base(adapter, base, cache_dir)
    return base, str(adapter)


def check_adapter_base(adapter: Path, base: str, cache_dir: Path) -> None:
    """Raise when `adapter` was trained on another base model than `base` (a loadable dir or hub id)."""
    trained_on = json.loads((Path(adapter) / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not trained_on:
        return
    try:
        trained_base, _ = resolve_model(trained_on, cache_dir)
    except BotkitError:
        trained_base = trained_on
    if Path(trained_base).expanduser().resolve() != Path(base).expanduser().resolve() and trained_base != base:
        raise BotkitError(f"adapter {adapter} was trained on {trained_on}, not on {base}: "
                          "load it with its own base model, or train a new adapter for this one")


def version_label(name: str) -> str:
    """The model name a registered version's answers carry (the engine's name, see models.loading)."""
    version = registered_version(name)
    if version is None:
        return name
    base = version["base"]
    return f"{_spec_label(base)}+{Path(version['adapter_path']).name}"


def active_label(settings) -> str:
    """The model name the active chat model's answers carry, without loading it."""
    if registered_version(settings.model):
        label = version_label(settings.model)
    else:
        label = _spec_label(settings.model)
    return f"{label}+{Path(settings.adapter).name}" if settings.adapter else label


def _spec_label(spec: str) -> str:
    if spec.lower() in DEFAULT_ALIASES:
        return DEFAULT_MODEL
    return model_label(spec)


def version_rows(active: str) -> list[dict]:
    """Registered versions as `botkit models list` rows (never creates a database)."""
    settings = load_settings()
    if not Path(settings.database_path).exists():
        return []
    db = open_database(Path(settings.database_path))
    if "model_versions" not in db.table_names():
        return []
    return [{"name": v["name"], "kind": v["kind"], "status": f"trained ({v['method']})", "location": v["adapter_path"],
             "active": v["name"] == active, "base": v["base"], "parent": v["parent"], "metrics": v["metrics"],
             "data": v["data"], "created_at": v["created_at"]}
            for v in ModelRegistry(db, settings).versions()]


class TrainedVersions:
    """Registered versions as model specs: `botkit models use brand-dpo`, and rows in `botkit models list`."""

    @staticmethod
    def resolve(spec: str, cache_dir: Path) -> tuple[str, str] | None:
        return resolve_version(spec, cache_dir)

    @staticmethod
    def list_models(active: str) -> list[dict]:
        return version_rows(active)


@hookimpl
def register_model_sources(register):
    register(TrainedVersions())


@hookimpl
def register_scorers(register):
    from botkit.feedback.reward_ranking import RANKER, reward_ranker

    register(RANKER, reward_ranker)
