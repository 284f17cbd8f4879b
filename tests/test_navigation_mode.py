"""The one private Streamlit hook the app relies on (viz/ui/navigation_mode.py) still exists and still works.

If a test here fails after a Streamlit upgrade, look at that module again: Streamlit renamed or dropped
`PagesManager.uses_pages_directory`, or changed what a pages/ folder beside the entry script means. The browser
test tests/test_browser_streamlit_run.py checks the end result with `streamlit run app.py`.
"""

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = """
import streamlit as st

st.session_state["runs"] = st.session_state.get("runs", 0) + 1
import viz.ui.navigation_mode  # noqa: E402, F401
st.navigation([st.Page("pages/home.py", default=True)]).run()
"""


def test_streamlit_still_decides_the_old_pages_mode_with_this_flag(monkeypatch):
    monkeypatch.undo()  # Streamlit's own behaviour, without conftest's AppTest switch
    assert "uses_pages_directory" in vars(PagesManager), "Streamlit renamed or dropped the flag"
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(str(ROOT / "app.py"))
    assert PagesManager.uses_pages_directory is True, "a pages/ folder beside app.py no longer sets the flag"


def test_the_first_run_of_a_process_restarts_as_the_navigation_app(tmp_path, monkeypatch):
    monkeypatch.undo()  # Streamlit's own behaviour, without conftest's AppTest switch
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "home.py").write_text("import streamlit as st\n\nst.write('home page')\n")
    (tmp_path / "app.py").write_text(APP)
    monkeypatch.delitem(sys.modules, "viz.ui.navigation_mode", raising=False)  # as in a new server process
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)

    at = AppTest.from_file(str(tmp_path / "app.py")).run(timeout=30)

    assert not at.exception
    assert PagesManager.uses_pages_directory is False
    assert at.session_state["runs"] == 2, "the old-mode first run was not restarted"
    assert [m.value for m in at.markdown] == ["home page"]
