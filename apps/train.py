"""The Train page: start a training run, watch its progress and loss curve, read its final metrics,
and promote or roll back model versions.

A run is `python -m botkit train ...` in its own process (never in Streamlit's): the app stays
responsive and the run survives a page reload or an app restart. The page reads what the run writes
(`BOTKIT_HOME/models/NAME/progress.json`, `metrics.json`) and the registry; promote and roll back go
through the same `ModelRegistry` calls as the CLI, gate included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import streamlit as st

from botkit.apps.signin import require_admin
from botkit.config import load_settings
from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry, check_name, models_dir

METHODS = {"dpo": "DPO: the chat model learns from preference pairs",
           "rm": "Reward model: learns to score answers from preference pairs",
           "sft": "SFT: the chat model imitates texts (from the store: the winning answers)",
           "rl": "Online RL (GRPO) against a reward model"}
STORE, UPLOAD = "The ranking store's judged pairs", "An uploaded TRL file (JSONL)"


def log_path(settings, name: str) -> Path:
    # Beside the run directory, not in it: a run refuses to start in a non-empty directory.
    return Path(settings.home) / "logs" / f"train-{name}.log"


def start_run(settings, method: str, out: str, *, data: Path | None = None, max_steps: int | None = None,
              profile: str = "cpu", reward_model: str | None = None) -> subprocess.Popen:
    """Start `botkit train METHOD` in the background for version `out`; its output goes to log_path()."""
    check_name(out)
    if method not in METHODS:
        raise BotkitError(f"unknown method '{method}' (one of {', '.join(METHODS)})")
    registry = ModelRegistry.open(settings)
    if registry.get(out):
        raise BotkitError(f"{out} is already a registered version: choose another name")
    if any(r["name"] == out and r["status"] == "running" for r in registry.runs()):
        raise BotkitError(f"{out} is being trained right now")
    cmd = [sys.executable, "-m", "botkit", "train", method, *(["--data", str(data)] if data else ["--from-store"]),
           "--out", out, "--profile", profile]
    if max_steps:
        cmd += ["--max-steps", str(max_steps)]
    if method == "rl" and reward_model:
        cmd += ["--reward-model", reward_model]
    log = log_path(settings, out)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        # A new session: the run is not killed with the app's process group.
        process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "BOTKIT_HOME": str(settings.home)}, start_new_session=True)
    # Reap it when it ends, so a finished run never lingers as a zombie that looks alive.
    threading.Thread(target=process.wait, daemon=True).start()
    return process


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def loss_curve(history: list[dict]) -> pd.DataFrame:
    """(step, loss) rows of the training log, without the eval and summary entries."""
    return pd.DataFrame([{"step": h["step"], "loss": h["loss"]} for h in history if "loss" in h and "step" in h])


def start_form(settings) -> None:
    registry = ModelRegistry.open(settings)
    with st.form("start-run"):
        method = st.selectbox("Method", list(METHODS), format_func=lambda m: f"{m} · {METHODS[m]}")
        source = st.radio("Data", [STORE, UPLOAD], horizontal=True)
        upload = st.file_uploader("TRL file", type=["jsonl"], help="Preference pairs (prompt, chosen, rejected); "
                                  "for sft: text or prompt/completion lines; for rl: prompt lines.")
        columns = st.columns(3)
        out = columns[0].text_input("New version name", placeholder="brand-dpo-2")
        max_steps = columns[1].number_input("Max steps", min_value=1, value=20, step=1)
        profile = columns[2].selectbox("Profile", ["cpu", "gpu"])
        rewards = [v["name"] for v in reversed(registry.versions("reward"))]
        reward_model = st.selectbox("Reward model (rl only)", rewards or ["none yet: train a reward model first"])
        submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    try:
        data = None
        if source == UPLOAD:
            if upload is None:
                raise BotkitError("choose a file to upload, or train from the ranking store")
            data = Path(settings.home) / "uploads" / f"{check_name(out)}-{Path(upload.name).name}"
            data.parent.mkdir(parents=True, exist_ok=True)
            data.write_bytes(upload.getvalue())
        start_run(settings, method, out, data=data, max_steps=int(max_steps), profile=profile,
                  reward_model=reward_model if rewards else None)
    except BotkitError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state.watch = out
    st.success(f"Started {method} run {out}: it keeps running if you leave or reload this page.",
               icon=":material/rocket_launch:")


def show_run(settings, name: str) -> None:
    """One run's status, progress bar, loss curve and (once finished) metrics."""
    run = next((r for r in ModelRegistry.open(settings).runs() if r["name"] == name), None)
    run_dir = models_dir(settings) / name
    log = log_path(settings, name)
    if run is None:
        st.info(f"{name} is starting (loading libraries and data)…", icon=":material/hourglass_top:")
    else:
        st.markdown(f"**{name}** · {run['method']} · **{run['status']}** · started {run['started_at']}")
    progress = read_json(run_dir / "progress.json") or {}
    final = read_json(run_dir / "metrics.json")
    history = (final or progress).get("history") or []
    step, total = progress.get("step", 0), progress.get("max_steps") or 0
    if total:
        st.progress(min(1.0, step / total), text=f"step {step} of {total}")
    curve = loss_curve(history)
    if not curve.empty:
        st.line_chart(curve, x="step", y="loss", x_label="step", y_label="training loss", height=240)
    if run and run["status"] == "failed":
        st.error(run["error"] or "the run failed", icon=":material/error:")
    elif run and run["status"] == "interrupted":
        st.warning(f"The run's process is gone. Continue it with `botkit train {run['method']} ... --out {name} "
                   "--resume` (same data).", icon=":material/pause_circle:")
    if final:
        st.markdown("**Final metrics**")
        st.dataframe(pd.DataFrame([{"metric": k, "value": v} for k, v in final["metrics"].items()]),
                     hide_index=True, width="stretch")
    if log.exists():
        with st.expander("Log"):
            st.code("\n".join(log.read_text(errors="replace").splitlines()[-40:]) or "(empty)")
    if run is None or run["status"] == "running":
        st.session_state.was_running = name
    elif st.session_state.pop("was_running", None) == name:
        st.rerun()  # the run just ended: refresh the whole page (versions, no more polling)


def runs_section(settings) -> None:
    runs = ModelRegistry.open(settings).runs()
    names = [r["name"] for r in runs]
    watch = st.session_state.get("watch")
    if watch and watch not in names:
        names.insert(0, watch)  # just started: the process has not registered its run yet
    if not names:
        st.caption("No training runs yet.")
        return
    name = st.selectbox("Run", names, index=names.index(watch) if watch in names else 0)
    live = any(r["name"] == name and r["status"] == "running" for r in runs) or name not in {r["name"] for r in runs}
    # Only a live run polls (every 2 s, this part of the page alone).
    st.fragment(show_run, run_every=2 if live else None)(settings, name)


def promote(choice: str, force: bool) -> None:
    try:
        result = ModelRegistry.open(load_settings()).promote(choice, force=force)
    except BotkitError as exc:
        st.session_state.notice = ("error", str(exc))
    else:
        st.session_state.notice = ("success", f"{choice} is now the active model (was {result['previous']})"
                                   + (", promoted despite the gate" if result["forced"] else ""))


def rollback() -> None:
    try:
        result = ModelRegistry.open(load_settings()).rollback()
    except BotkitError as exc:
        st.session_state.notice = ("error", str(exc))
    else:
        st.session_state.notice = ("success", f"rolled back {result['rolled_back']}; active model: {result['active']}")


def versions_section(settings) -> None:
    # Promote and roll back run as callbacks, before the page draws, so what follows shows their effect.
    kind, text = st.session_state.pop("notice", (None, None))
    if kind:
        if kind == "error":
            st.error(text, icon=":material/block:")
        else:
            st.success(text, icon=":material/check:")
    registry = ModelRegistry.open(settings)
    versions = registry.versions()
    active = load_settings().model
    st.caption(f"Active chat model: **{active}**")
    if not versions:
        st.caption("No trained versions yet.")
    else:
        st.dataframe(pd.DataFrame([{"active": v["name"] == active, "name": v["name"], "kind": v["kind"],
                                    "method": v["method"], "base": v["base"], "parent": v["parent"],
                                    "created": v["created_at"], "metrics": json.dumps(v["metrics"], default=str)}
                                   for v in versions]), hide_index=True, width="stretch")
    policies = [v["name"] for v in reversed(versions) if v["kind"] == "policy"]
    columns = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
    choice = columns[0].selectbox("Version to promote", policies or ["no policy version yet"], disabled=not policies)
    force = columns[1].checkbox("Override the gate", help="Promote even without enough human judgements "
                                "(recorded as forced, like `--force`).")
    if policies:
        st.caption(f"Promotion gate: {registry.gate(choice)['reason']}")
    columns[2].button("Promote", type="primary", disabled=not policies, icon=":material/upgrade:", on_click=promote,
                      args=(choice, force))
    columns[3].button("Roll back", icon=":material/undo:", on_click=rollback)


def main() -> None:
    require_admin("train and promote models", "The Train page")
    settings = load_settings()
    st.title("Train")
    with st.expander("Start a run", expanded=not ModelRegistry.open(settings).runs(), icon=":material/model_training:"):
        start_form(settings)
    st.subheader("Runs")
    runs_section(settings)
    st.subheader("Model versions")
    versions_section(settings)


main()
