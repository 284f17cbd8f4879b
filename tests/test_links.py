"""The one link mechanism: how each type is read and written, and links made before it still open the same view."""

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from viz.ui.links import ON_OFF, number, one_of, text, whole

TIMEOUT = 120


def test_each_type_has_one_spelling_and_reads_it_back():
    cases = [(whole(0, 5), 3, "3"), (number(0.1, 2.0), 0.7, "0.7"), (one_of(["a", 2]), 2, "2"), (ON_OFF, True, "1"),
             (ON_OFF, False, "0"), (text(5), "party", "party"), (one_of(["S1: x", "S2: y"], by_position=True),
                                                                  "S2: y", "1")]
    for kind, value, spelled in cases:
        assert kind.spell(value) == spelled
        assert kind.parse(spelled) == value
        assert kind.accepts(value)


def test_on_off_reads_the_old_spellings():
    for raw, value in [("True", True), ("False", False), ("1", True), ("0", False), ("on", True), ("no", False)]:
        assert ON_OFF.parse(raw) is value


@pytest.mark.parametrize(("kind", "raw"), [(whole(0, 5), "6"), (whole(0, 5), "-1"), (whole(0, 5), "2.5"),
                                           (number(0.1, 2.0), "nan"), (number(0.1, 2.0), "3"),
                                           (one_of(["a", "b"]), "c"), (ON_OFF, "maybe"),
                                           (one_of(["x", "y"], by_position=True), "2")])
def test_bad_link_values_are_refused(kind, raw):
    with pytest.raises(ValueError):
        kind.parse(raw)


def test_a_remembered_value_the_new_model_lacks_is_not_accepted():
    assert not whole(0, 5).accepts(20)  # layer 20 after switching to a 6-layer model
    assert not one_of(["S1: old text"], by_position=True).accepts("S1: new text")


def open_link(page: str, **params) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception
    return app


def test_old_links_open_the_same_view(encoder):
    app = open_link("pages/similarity.py", text="students celebrate the graduation with a big party",
                    sim_layer="3", sim_skip_special="False", present="0", tour="True")
    assert app.slider(key="sim_layer").value == 3
    assert app.toggle(key="sim_skip_special").value is False
    assert app.toggle(key="tour").value is True
    assert app.query_params["sim_layer"] == "3" and app.query_params["sim_skip_special"] == "0"  # one spelling
    assert "tour" not in app.query_params and "present" not in app.query_params  # defaults stay out of the link


def test_old_tab_link_opens_the_tab_and_old_booleans_still_work(encoder):
    app = open_link("pages/attention.py", attn_view="Heatmap", attn_words="True", attn_layer="4", attn_head="7")
    assert (app.slider(key="attn_layer").value, app.slider(key="attn_head").value) == (4, 7)
    assert app.toggle(key="attn_words").value is True
    assert app.query_params["attn_view"] == "Heatmap"


def test_a_bad_link_value_gives_a_notice_and_the_default(encoder):
    app = open_link("pages/tokens.py", tok_source="hidden state after a layer", tok_layer="99")
    assert app.slider(key="tok_layer").value == 0
    assert any("tok_layer" in toast.value and "0 to 6" in toast.value for toast in app.toast)
