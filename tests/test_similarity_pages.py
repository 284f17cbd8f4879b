"""AppTest runs of the tokens, word-senses and projection pages with both bundled models and bad input."""

import base64
import json

import numpy as np
import pytest
from conftest import PARTY
from test_app import run_app

MODELS = ["bundled:minilm", "bundled:smollm2"]
LAYERS = {"bundled:minilm": 6, "bundled:smollm2": 30}


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def chart_spec(app, index: int = 0) -> dict:
    return json.loads(app.get("plotly_chart")[index].proto.spec)


def array(value) -> np.ndarray:
    """A plotly array from a figure spec, decoding plotly's base64 typed-array form."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.asarray(value)


def frame_of(app, name: str):
    return next(df.value for df in app.dataframe if name in df.value.columns)


@pytest.mark.parametrize("model", MODELS)
def test_tokens_page(model, request):
    request.getfixturevalue("encoder" if model == MODELS[0] else "decoder")
    app = run_app(page="pages/tokens.py", model_choice=model, text="paris is a big party")
    assert not app.exception
    table = frame_of(app, "vocabulary entry")
    if model == MODELS[0]:
        assert table["id"].tolist() == [101, 3000, 2003, 1037, 2502, 2283, 102]
        assert table["special"].tolist()[0] == "✓ special" and table["word"].tolist()[1] == "paris"
        assert app.metric[0].label == "One-hot table: 30,522 × 30,522" and app.metric[0].value == "3.7 GB"
        assert app.metric[1].value == "46.9 MB"
    else:
        assert table["token"].tolist()[:2] == ["par", "is"] and table["piece"].tolist()[:2] == ["1 of 2", "2 of 2"]
        assert table["vocabulary entry"].tolist()[-1] == "Ġparty"
        assert any("`paris` → `par` + `is`" in m.value for m in app.markdown)
        assert app.metric[0].label == "One-hot table: 49,152 × 49,152" and app.metric[1].value == "113.2 MB"
    toy = {m.label: m.value for m in app.metric}
    assert toy["cat – dog"] == "0.9832" and toy["car – banana"] == "0.1511"
    bars = next(spec for spec in (chart_spec(app, i) for i in range(len(app.get("plotly_chart"))))
                if spec["data"][0]["type"] == "bar")
    width = 384 if model == MODELS[0] else 576
    assert f"{width} numbers" in bars["layout"]["title"]["text"] and "party" in bars["layout"]["title"]["text"]
    assert frame_of(app, "cosine")["token"].tolist()[0] in ("cat", "␣cat")  # nearest entry to "cat" is itself


def test_tokens_page_vector_after_a_layer_and_too_few_words(encoder):
    app = run_app(page="pages/tokens.py")
    app.radio(key="tok_source").set_value("hidden state after a layer").run()
    app.slider(key="tok_layer").set_value(6).run()
    app.text_input(key="tok_words").input("cat").run()
    assert not app.exception
    assert any("hidden state at layer 6" in chart_spec(app, i)["layout"]["title"]["text"]
               for i in range(len(app.get("plotly_chart"))))
    assert "Type at least two words" in texts(app.info)[-1]


def test_similarity_page_shows_measured_party_values(encoder):
    app = run_app(page="pages/similarity.py")
    assert not app.exception and not app.warning
    summary = next(m.value for m in app.markdown if m.value.startswith("At the last layer"))
    assert summary.startswith("At the last layer (6): S2 0.74, S3 0.83") and "least alike: **S2**" in summary
    values = frame_of(app, "S1 vs S2")
    assert values["S1 vs S2"].round(2).tolist() == pytest.approx([1.0, 0.90, 0.86, 0.81, 0.81, 0.83, 0.74], abs=0.02)
    assert values["S1 vs S3"].round(2).tolist() == pytest.approx([1.0, 0.96, 0.93, 0.90, 0.88, 0.90, 0.83], abs=0.02)
    assert any("segment (token-type) embedding" in c.value and "layer-0 cosine: S2 1.000" in c.value
               for c in app.caption)
    lines = chart_spec(app, 0)
    assert [t["name"][:8] for t in lines["data"]] == ["S1 vs S2", "S1 vs S3"]
    neighbours = frame_of(app, "same word")
    assert neighbours["token"].tolist()[:2] == ["party", "party"] and neighbours["rank"].tolist()[0] == 1


def test_similarity_page_layer_and_sentence_choices(encoder):
    app = run_app(page="pages/similarity.py")
    app.slider(key="sim_layer").set_value(0).run()
    app.selectbox(key="sim_b").set_value("S3: we danced all night at the birthday party").run()
    assert not app.exception
    cross = chart_spec(app, 1)
    assert cross["layout"]["title"]["text"] == "S1 × S3 at layer 0"
    z = array(cross["data"][0]["z"])
    assert z.shape == (10, 10)  # [CLS] students … party [SEP] x [CLS] we … party [SEP]
    assert z[8, 8] == pytest.approx(1.0, abs=1e-5)  # "party" at position 8 in both: same layer-0 vector
    assert z[8, 8] == pytest.approx(z.max(), abs=1e-9)  # [CLS] × [CLS] is 1 too, up to rounding (1 + 2e-16)


def test_similarity_page_word_missing_in_some_or_all_sentences(encoder):
    app = run_app(page="pages/similarity.py", chosen_word="celebrate")
    assert not app.exception
    warnings = texts(app.warning)
    assert len(warnings) == 2 and warnings[0].startswith("S2 has no “celebrate”") and "deputy" in warnings[0]
    assert any("at least two of the sentences" in i for i in texts(app.info))
    app = run_app(page="pages/similarity.py", chosen_word="zebra")
    assert not app.exception and len(app.warning) == 3
    assert "“zebra” is in none of the sentences" in texts(app.info)[-1]


def test_similarity_page_with_empty_extra_box_and_one_sentence(encoder):
    app = run_app(page="pages/similarity.py", extra_sentences="")
    assert not app.exception
    assert [t["name"][:8] for t in chart_spec(app, 0)["data"]] == ["S1 vs S2"]
    app = run_app(page="pages/similarity.py", extra_sentences="  \n", text_b="")
    assert not app.exception
    assert any("Add a second sentence" in i for i in texts(app.info))
    assert any("at least two of the sentences" in i for i in texts(app.info))


def test_similarity_page_decoder(decoder):
    app = run_app(page="pages/similarity.py", model_choice="bundled:smollm2")
    assert not app.exception
    summary = next(m.value for m in app.markdown if m.value.startswith("At the last layer"))
    assert summary.startswith("At the last layer (30):") and "least alike: **S2**" in summary
    assert any("rotary" in c.value and "layer-0 cosine: S2 1.000, S3 1.000" in c.value for c in app.caption)


@pytest.mark.parametrize("model", MODELS)
def test_projection_page_animates_all_layers(model, request):
    request.getfixturevalue("encoder" if model == MODELS[0] else "decoder")
    app = run_app(page="pages/projection.py", model_choice=model)
    assert not app.exception
    spec = chart_spec(app)
    assert len(spec["frames"]) == LAYERS[model] + 1
    assert spec["layout"]["sliders"][0]["active"] == LAYERS[model]
    names = [t["name"] for t in spec["data"]]
    assert names[:2] == ["S1: students celebrate the grad…", "S1: students celebrate the grad… (chosen word)"]
    assert len(names) == 6 and names[4].startswith("S3: we danced")
    chosen = spec["data"][3]
    assert array(chosen["x"]).shape == (1,) and "deputy leader is highly respected" in chosen["customdata"][0]


def test_projection_page_3d_tsne_and_missing_word(encoder):
    app = run_app(page="pages/projection.py", chosen_word="graduation", extra_sentences="")
    app.radio(key="proj_dims").set_value("3-D").run()
    assert not app.exception
    spec = chart_spec(app)
    assert spec["data"][0]["type"] == "scatter3d" and len(spec["frames"]) == 7
    assert texts(app.warning) == ["S2 has no “graduation”: deputy leader is highly respected in the party"]
    app.radio(key="proj_dims").set_value("2-D").run()
    app.radio(key="proj_method").set_value("t-SNE").run()
    assert not app.exception
    spec = chart_spec(app)
    assert "t-SNE (seed 0)" in spec["layout"]["title"]["text"] and "frames" not in spec


def test_projection_page_sense_set_measures_separation(encoder):
    app = run_app(page="pages/projection.py")
    app.radio(key="proj_source").set_value("Built-in sense set").run()
    app.selectbox(key="proj_set").set_value("bank").run()
    assert not app.exception
    spec = chart_spec(app)
    assert [t["name"] for t in spec["data"] if array(t["x"]).size] == ["money", "river"]
    separation = chart_spec(app, 1)
    assert [t["name"] for t in separation["data"]] == ["silhouette", "nearest-centroid accuracy"]
    assert array(separation["data"][0]["y"]).shape == (7,)
    assert any(m.value.startswith("Best separated at **layer") for m in app.markdown)


def test_projection_page_upload_mode_waits_for_a_file(encoder):
    app = run_app(page="pages/projection.py")
    app.radio(key="proj_source").set_value("Upload a CSV").run()
    assert not app.exception and "Upload a CSV" in texts(app.info)[-1]


def test_pages_escape_markdown_in_missing_word_warnings(encoder):
    app = run_app(page="pages/similarity.py", chosen_word="**x**", text=PARTY + " $x$")
    assert not app.exception
    assert "\\*\\*x\\*\\*" in texts(app.warning)[0]
