"""PCA projection: hidden states of every token (or of one word across many sentences) in 2-D/3-D, layer by layer."""

import numpy as np
import streamlit as st

from viz import projection as proj
from viz import similarity as sim
from viz.analysis import ModelInfo
from viz.figures.common import visible
from viz.figures.projection import projection_figure
from viz.figures.similarity import layer_lines
from viz.ui.cached import shared
from viz.ui.classroom import chart_first, secondary, tour_ui
from viz.ui.export import chart, export_ui
from viz.ui.figure_cache import shared_figure
from viz.ui.links import ON_OFF, linked, one_of, whole
from viz.ui.sidebar import current_model
from viz.views.projection import Drawn, sense_points, typed_points

TYPED, BUILT, UPLOAD = "Your sentences", "Built-in sense set", "Upload a CSV"
SOURCES, METHODS, VIEWS = [TYPED, BUILT, UPLOAD], ["PCA", "t-SNE"], ["2-D", "3-D"]
TSNE_WARN_POINTS = 1500
MAIN_CHART_PX = 560  # presentation mode: the projection's height, so that it fits a 1280 × 720 screen


def radio(where, label: str, options: list[str], *, key: str, **more):
    """The draw function of a horizontal radio, for linked()."""
    return lambda: where.radio(label, options, horizontal=True, key=key, **more)


def controls_ui(info: ModelInfo) -> tuple[str, str, int, int]:
    """Which sentences, which method, 2-D or 3-D, and the starting layer."""
    source = linked("proj_source", one_of(SOURCES), TYPED, radio(st, "Sentences", SOURCES, key="proj_source"))
    columns = st.columns([1, 1, 2])
    method = linked("proj_method", one_of(METHODS), "PCA", secondary(radio(
        columns[0], "Method", METHODS, key="proj_method",
        help="t-SNE shows neighbourhoods better than PCA, but distances between groups mean little.")))
    view = linked("proj_dims", one_of(VIEWS), "2-D", radio(columns[1], "View", VIEWS, key="proj_dims"))
    layer = linked("proj_layer", whole(0, info.n_layers), info.n_layers, lambda: columns[2].slider(
        "Layer (0 = input embeddings)", 0, info.n_layers, key="proj_layer",
        help="PCA: the frame the animation starts from. t-SNE: the layer shown."))
    return source, method, 3 if view == "3-D" else 2, layer


def projection_ui(drawn: Drawn, method: str, dims: int, layer: int, shown: dict):
    """The PCA animation over layers, or t-SNE of one layer."""
    states = drawn.points.states
    common = {"group": drawn.group, "highlight": drawn.points.highlight, "hover": drawn.hover, "text": drawn.text}
    if method == "PCA":  # the PCA and the figure are shared: a new layer only rebuilds the figure
        projection = shared("derived", (*drawn.key, "pca", dims), lambda: proj.pca_over_layers(states, dims))
        shown.update({"coordinates_by_layer": projection.coords, "variance_explained_by_layer": projection.explained})
        return shared_figure((*drawn.key, "pca", dims, layer), lambda: projection_figure(
            coords=projection.coords, explained=projection.explained, start_layer=layer,
            title=f"PCA of {states.shape[1]} vectors", **common))
    seed = linked("proj_seed", whole(0, 10_000), 0, lambda: st.number_input(
        "t-SNE random seed", 0, 10_000, key="proj_seed",
        help="t-SNE starts from random positions; the same seed gives the same picture."))
    if states.shape[1] < 4:
        st.info("t-SNE needs at least 4 points.")
        st.stop()
    if states.shape[1] > TSNE_WARN_POINTS:
        st.warning(f"t-SNE of {states.shape[1]:,} points takes a while.")
    with st.spinner("t-SNE…"):
        coords = shared("derived", (*drawn.key, "t-SNE", dims, layer, seed),
                        lambda: proj.tsne_layer(states[layer], seed=seed, n_components=dims))
    shown.update({"coordinates": coords, "layer": layer, "seed": seed})
    return shared_figure((*drawn.key, "t-SNE", dims, layer, seed), lambda: projection_figure(
        coords=coords[None], explained=np.zeros((1, dims)), axis_name="t-SNE ", layer_names=[str(layer)],
        title=f"t-SNE (seed {seed}) of {states.shape[1]} vectors", **common))


def separation_ui(drawn: Drawn, layer: int, shown: dict) -> None:
    """How well the senses separate at each layer (silhouette, nearest-centroid accuracy)."""
    labels = drawn.labels
    if not (labels and len(set(labels)) >= 2 and len(labels) > len(set(labels))):
        return
    st.header("Where do the senses separate?")
    scores = shared("derived", (*drawn.key, "separation"), lambda: proj.separation_by_layer(drawn.points.states,
                                                                                             labels))
    chart(layer_lines(series=scores, title=f"How well the senses of “{visible(drawn.points.token[0])}” separate, "
                                           "layer by layer", y_title="score", marked_layer=layer,
                      y_range=(min(-0.1, float(scores['silhouette'].min()) - 0.05), 1.05)),
          key="proj_separation_chart")
    shown["separation_by_layer"] = scores
    best = int(np.argmax(scores["silhouette"]))
    st.markdown(f"Best separated at **layer {best}** (silhouette {scores['silhouette'][best]:.2f}, nearest-centroid "
                f"accuracy {scores['nearest-centroid accuracy'][best]:.0%}); at layer 0: silhouette "
                f"{scores['silhouette'][0]:.2f}, accuracy {scores['nearest-centroid accuracy'][0]:.0%}.")
    st.caption("Silhouette (cosine distance): +1 when every sentence is much closer to its own sense than to the "
               "others, 0 when the senses overlap. Nearest-centroid accuracy: share of sentences whose vector is "
               "closer to the average of its own sense (itself left out) than to any other sense's average.")


st.title("PCA projection")
tour_ui("projection")
place, controls = chart_first()  # presentation mode: the projection first, its controls below it
with controls:
    st.markdown(
        "Each token's hidden state is a point in a space of hundreds of dimensions. **PCA** finds the 2 or 3 "
        "directions in which the points spread most and draws them there. Press **▶ Play** to watch the points "
        "move layer by layer: do the uses of one word drift apart when their meanings differ?"
    )
    with st.expander("How the picture is made"):
        st.markdown(
            "Every vector is first scaled to length 1, the geometry that cosine similarity sees. PCA is then fitted "
            "**separately at each layer**, and an axis is flipped when it points the opposite way from the layer "
            "before, so the animation does not jump. Vector lengths change a lot between layers (in a decoder the "
            "first token's grows to thousands), so a single basis for all layers would squeeze most layers into a "
            "dot. The price: the axes of two layers are not the same directions; compare shapes and groupings, not "
            "positions. The share of variance each axis explains is in the title of every frame."
        )
    info = current_model()
    source, method, dims, layer = controls_ui(info)
    include_special = source == TYPED and linked("proj_special", ON_OFF, False, secondary(lambda: st.toggle(
        "Include special tokens", key="proj_special", help="[CLS]/[SEP] and similar sit far from the words.")))
    drawn = typed_points(info, include_special) if source == TYPED else sense_points(info, source, BUILT)
shown = export_ui("projection", model=info, analyses=drawn.analyses, title="PCA projection")
shown.update({"method": method, "dimensions": dims, "start_layer": layer, "group": drawn.group, "points": drawn.text,
              "highlighted": drawn.points.highlight, "sense": drawn.labels})
if drawn.points.states.shape[1] < 2:
    st.info("There are too few tokens to project; type a longer sentence.", icon=":material/edit:")
    st.stop()
chart(projection_ui(drawn, method, dims, layer, shown), key="proj_chart", where=place, fit=MAIN_CHART_PX)
st.caption(f"Layer 0 for {info.name} is {sim.layer_zero_note(info.family)}")
separation_ui(drawn, layer, shown)
