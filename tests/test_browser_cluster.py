"""Chromium: a class on two app replicas behind HAProxy (`make cluster`, viz/cluster.py). Ten sessions spread over
both replicas and each sees only its own text; a CSV upload works through the proxy on each replica; when one
replica dies, its students reload and get a working page from the other, whose sessions carry on untouched.

The cluster is started once for this module; figures (start time, memory per replica, who landed where) are written
to artifacts/cluster-<port>/measured.json."""

import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field

import pytest
from browser_support import IDLE_SCRIPT, ROOT, block_internet, free_port, set_text, upload_sense_set
from test_browser_projection_upload import CSV

from viz.cluster import Cluster, rss_bytes

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
WORDS = ["zebra", "giraffe", "penguin", "dolphin", "tiger", "rabbit", "eagle", "turtle", "walrus", "badger"]
CODE = '[data-testid="stText"]'
MEASURED: dict = {}


@dataclass
class Student:
    index: int
    context: object
    page: object
    errors: list = field(default_factory=list)
    blocked: list = field(default_factory=list)
    server: str = ""

    @property
    def word(self) -> str:
        return WORDS[self.index]

    @property
    def text(self) -> str:
        return f"student {self.index} watches the {self.word} at the zoo"


def server_of(context) -> str:
    """The replica HAProxy pinned this browser to (its SERVERID cookie)."""
    return {cookie["name"]: cookie["value"] for cookie in context.cookies()}.get("SERVERID", "")


def wait_for_code(page, word: str, timeout_ms: int = 120_000) -> str:
    """Wait until the home page's token block shows this word (its pieces joined) and the script is idle; returns
    the block's text."""
    script = (f"() => (document.querySelector('{CODE}')?.innerText || '')"
              f".replaceAll(' | ', '').replaceAll('##', '').includes('{word}')")
    page.wait_for_function(script, timeout=timeout_ms)
    page.wait_for_function(IDLE_SCRIPT, timeout=timeout_ms)
    return page.locator(CODE).inner_text()


def words_seen(page) -> set[str]:
    """Which of the class's words this page shows anywhere (tokens joined back: 'pen | ##guin' -> 'penguin')."""
    shown = page.locator(CODE).inner_text() + page.evaluate("() => document.body.innerText")
    joined = shown.replace(" | ", "").replace("##", "")
    return {word for word in WORDS if word in joined}


@pytest.fixture(scope="module")
def cluster():
    port = free_port()
    started = time.monotonic()
    with Cluster(replicas=2, port=port, folder=ROOT / "artifacts" / f"cluster-{port}",
                 env={"HF_HUB_OFFLINE": "1"}) as running:
        MEASURED["replicas_healthy_s"] = {m.name: round(m.ready_s, 1) for m in running.members}
        MEASURED["cluster_start_s"] = round(time.monotonic() - started, 1)
        yield running
    (running.folder / "measured.json").write_text(json.dumps(MEASURED, indent=1))
    print(json.dumps(MEASURED))


@pytest.fixture(scope="module")
def classroom(cluster, browser):
    """Ten sessions opened together, each with its own text in the link; waits until each shows its tokens."""
    students = []
    started = time.monotonic()
    for index in range(len(WORDS)):
        context = browser.new_context()
        student = Student(index, context, None, blocked=block_internet(context, cluster.url))
        student.page = context.new_page()
        student.page.on("pageerror", lambda error, s=student: s.errors.append(str(error)))
        query = urllib.parse.urlencode({"model": "bundled:minilm", "text": student.text})
        student.page.goto(f"{cluster.url}/?{query}")
        students.append(student)
    for student in students:
        wait_for_code(student.page, student.word)
        student.server = server_of(student.context)
        student.page.evaluate("() => { window.__notReloaded = true; }")
    MEASURED["ten_sessions_drawn_s"] = round(time.monotonic() - started, 1)
    MEASURED["sessions"] = {student.word: student.server for student in students}
    MEASURED["rss_mb_after_sessions"] = {m.name: rss_bytes(m.process.pid) // 10**6 for m in cluster.members}
    yield students
    for student in students:
        student.context.close()


def test_sessions_spread_over_both_replicas_and_see_only_their_own_text(classroom):
    assert {student.server for student in classroom} == {"r1", "r2"}
    for student in classroom:
        assert words_seen(student.page) == {student.word}, f"session {student.index} saw another session's text"
        assert f"student | {student.index} | watches" in student.page.locator(CODE).inner_text()
        assert student.page.locator('[data-testid="stException"]').count() == 0
        assert student.errors == [] and student.blocked == []


def upload_through_proxy(browser, url: str, csv_path) -> tuple[str, list]:
    """The CSV upload of tests/test_browser_projection_upload.py through the proxy; returns (replica, traces)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = block_internet(context, url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    upload_sense_set(page, url, csv_path, "bank")
    traces = page.evaluate("""() => document.querySelector('.js-plotly-plot')._fullData
        .filter(t => t.x && t.x.length).map(t => [t.name, t.x.length])""")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert errors == [] and blocked == []
    server = server_of(context)
    context.close()
    return server, traces


def upload_log(cluster) -> list[tuple[str, str]]:
    """(replica, method) of every upload request HAProxy logged."""
    lines = (cluster.folder / "haproxy.log").read_text().splitlines()
    return re.findall(r'replicas/(r\d+) .*"(PUT|DELETE) /_stcore/upload_file/', "\n".join(lines))


def test_a_csv_upload_works_through_the_proxy_on_each_replica(cluster, classroom, browser, tmp_path):
    upload = tmp_path / "bank senses.csv"
    upload.write_text(CSV, encoding="utf-8")
    served: list[str] = []
    started = time.monotonic()
    for _ in range(3):  # round robin sends fresh browsers to r1, r2, r1, ...; a third try covers any skew
        server, traces = upload_through_proxy(browser, cluster.url, upload)
        assert traces == [["money", 5], ["river", 5]]
        served.append(server)
        if set(served) == {"r1", "r2"}:
            break
    MEASURED["uploads"] = {"replicas": served, "seconds": round(time.monotonic() - started, 1)}
    assert set(served) == {"r1", "r2"}
    puts = [replica for replica, method in upload_log(cluster) if method == "PUT"]
    assert sorted(set(puts)) == sorted(set(served))  # each upload's PUT reached the replica its page was pinned to


def test_when_a_replica_dies_its_students_reload_onto_the_other(cluster, classroom):
    lost = [student for student in classroom if student.server == "r1"]
    kept = [student for student in classroom if student.server == "r2"]
    assert lost and kept
    cluster.stop_replica("r1")  # SIGKILL to its process group, as a crash would
    stopped = time.monotonic()
    while cluster.server_states()["r1"].startswith("UP") and time.monotonic() - stopped < 15:
        time.sleep(0.2)
    MEASURED["r1_marked_down_s"] = round(time.monotonic() - stopped, 1)
    assert cluster.server_states() == {"r1": "DOWN", "r2": "UP"}

    for student in lost:
        student.page.reload()
        shown = wait_for_code(student.page, student.word)
        assert f"student | {student.index} | watches" in shown  # its text, from its link
        assert words_seen(student.page) == {student.word}
        assert server_of(student.context) == "r2"
        assert student.page.locator('[data-testid="stException"]').count() == 0
    MEASURED["lost_sessions_reloaded_s"] = round(time.monotonic() - stopped, 1)
    MEASURED["rss_mb_r2_after_failover"] = rss_bytes(cluster.replica("r2").process.pid) // 10**6

    for student in kept:  # never reloaded, still showing their own text
        assert student.page.evaluate("() => window.__notReloaded === true")
        assert words_seen(student.page) == {student.word}
    still = kept[0]
    set_text(still.page, "Text", "the class moved on to the octopus")
    assert "octopus" in wait_for_code(still.page, "octopus").replace(" | ", "").replace("##", "")
    assert all(student.errors == [] and student.blocked == [] for student in classroom)
    assert all(student.page.locator('[data-testid="stException"]').count() == 0 for student in classroom)
