"""Train: a tiny Llama trained here, on a pattern to repeat or on your text; watch its attention form."""

import streamlit as st

from viz.ui import cached
from viz.ui.export import export_ui
from viz.ui.training import DONE, QUEUED, RUNNING, STOPPED, trainer, watcher_id
from viz.views import train as views

st.title("Train a tiny transformer")
st.markdown("Train a small Llama (transformers' own model, a few layers and heads) from scratch on this machine, "
            "and watch its heads learn where to look. One training runs at a time; the same settings are trained "
            "once and everyone who asks for them watches the same run. A finished model opens on every other page.")
settings, pasted = views.settings_ui()
st.caption(f"Model key: `{settings.key}`")
run = trainer().find(settings)
watching = run is not None and watcher_id() in run.watchers
if run is None or run.status != DONE:
    label = "Train" if run is None or run.status == STOPPED or not watching else "Training…"
    if st.button(label, key="train_start", type="primary", icon=":material/model_training:",
                 disabled=watching and run.status in (QUEUED, RUNNING)):
        run = trainer().request(settings, pasted, watcher_id())
        watching = True
if run is not None and watching and run.status in (QUEUED, RUNNING):
    @st.fragment(run_every=1.0)
    def live() -> None:
        """Redrawn every second while the run trains; the whole page once it has finished."""
        current = trainer().find(settings)
        if current is None or current.status not in (QUEUED, RUNNING):
            st.rerun()
        views.progress_ui(current)
    live()
    st.stop()
views.status_ui(run if not watching or run.status != DONE else None)
if run is None or run.history is None or not run.history.steps:
    views.before_ui(settings)
    st.stop()
shown = export_ui("train", model=cached.model_info(settings.key), title="Train") if run.status == DONE else {}
views.results_ui(run, shown)
if run.status == DONE and st.session_state.get("model_id") == settings.key:
    st.success("This model is now the sidebar's model: open a page to look inside it.", icon=":material/check_circle:")
    columns = st.columns(5)
    for column, (stem, title) in zip(columns, [("attention", "Attention"), ("qkv", "Q, K, V"),
                                               ("similarity", "Word senses"), ("projection", "PCA projection"),
                                               ("next_token", "Next token")], strict=True):
        column.page_link(f"pages/{stem}.py", label=title)
