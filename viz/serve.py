"""`python -m viz.serve [streamlit options]`: start the app with `streamlit run app.py`, minus one legacy quirk.

Streamlit treats a folder named pages/ next to the entry script as an old-style multipage app until
the first st.navigation call of the process, so the very first request (say a shared link to
/attention after a restart) would run that page alone, without the frame and sidebar. Marking the
process as an st.navigation app before the server starts removes that first-request difference.
"""

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parents[1] / "app.py"


def main() -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
