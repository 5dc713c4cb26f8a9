"""How responsive the web app is once a large file is analysed.

    python benchmarks/app_responsiveness.py N

Analyses N generated comments (with a team column), puts the result in an
app session through Streamlit's AppTest, and prints the server-side time of
each page switch (first visit, which builds the cached report, and a second
visit) and of a filter change on the Comments page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    args = parser.parse_args()
    os.environ.setdefault("ANALYSER_CACHE_DIR", tempfile.mkdtemp())
    from streamlit.testing.v1 import AppTest
    from throughput import generate

    from analyser import analyse
    from ui_common import Analysis

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "survey.csv"
        generate(args.n).to_csv(path, index=False)
        started = time.perf_counter()
        result = analyse(path)
        print(f"analysis of {args.n} comments: {time.perf_counter() - started:.1f} s")
    from ui_common import _breakdown, _exported, _labels, _rendered, _report

    key = f"bench-{args.n}"
    started = time.perf_counter()
    # What 'Analyse' builds once, behind its progress bar.
    report = _report(key, "team", None, "en", result)
    _rendered(key, "html", None, "en", report)
    _rendered(key, "md", None, "en", report)
    _labels(key, "en", result)
    _breakdown(key, "team", result)
    _exported(key, ".csv", result)
    _exported(key, ".xlsx", result)
    print(f"themes, action plan, tables and exports (built once when analysing): {time.perf_counter() - started:.1f} s")
    analysis = Analysis(key=key, name="generated.csv", result=result, group_columns=["team"])

    def open_page(page: str) -> AppTest:
        # A fresh session per page, as a user's click gives: no widget state carried over.
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=3600)
        at.session_state["lang"] = "en"
        at.session_state["analysis"] = analysis
        at.switch_page(f"pages/{page}.py")
        started = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        return at, time.perf_counter() - started

    for visit in ("first visit", "second visit"):
        for page in ("overview", "themes", "actions", "comments", "downloads"):
            _, seconds = open_page(page)
            print(f"{page:<10} {visit:<13} {seconds:6.2f} s")
    at, _ = open_page("comments")
    for query in ("promise", "beloofd", ""):
        started = time.perf_counter()
        at.text_input(key="comments-search").set_value(query).run()
        print(f"comments filter '{query}': {time.perf_counter() - started:6.2f} s")


if __name__ == "__main__":
    main()
