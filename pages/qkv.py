"""Q, K, V: how one attention weight is computed, step by step, for the chosen layer, head and query token."""

from dataclasses import dataclass

import numpy as np
import streamlit as st

from viz import qkv_steps as steps
from viz.analysis import QKV, Analysis
from viz.compute import cosine_matrix
from viz.figures import qkv as figures
from viz.figures.common import hover_labels, visible
from viz.model import LoadedModel
from viz.model.positions import learned_positions, output_projection, position_table_size, project_heads, rotary_info
from viz.ui import (
    analysis_or_stop,
    current_model,
    get_analysis,
    get_qkv,
    layer_head_ui,
    selection,
    share,
    token_ui,
    url_bool,
    url_int,
)
from viz.ui_classroom import reveal_ui, secondary, tour_ui
from viz.ui_export import chart, export_ui

TOP_K = 10  # keys shown by default on long inputs
ALL_KEYS_UP_TO = 16  # inputs up to this many tokens show every key
WORD_ORDER = ("Then Tim chased clouds.", "Then clouds chased Tim.")  # the same tokens, in both models' vocabularies
SCORE_COLUMNS = {"q·k": "layer 0 q(Tim)·k(clouds)", "q·k without rotary": "… without rotary"}


@dataclass(frozen=True)
class View:
    """What this request looks at: computed per session, never stored on the shared model."""

    loaded: LoadedModel
    analysis: Analysis
    qkv: QKV
    step: steps.QuerySteps
    layer: int
    shown: np.ndarray  # (N,) positions of the keys drawn in the strips and bars
    labels: list[str]  # "position: token" of every token

    @property
    def shown_labels(self) -> list[str]:
        return [self.labels[i] for i in self.shown]

    @property
    def query_row(self) -> int:
        """Row of the query among the shown keys."""
        return int(np.flatnonzero(self.shown == self.step.query_index)[0])


def tok(token: str) -> str:
    """A token as inline code in markdown, so its characters are shown, never interpreted."""
    return "`" + visible(token).replace("`", "ˋ") + "`"


def show_all_keys(n_tokens: int) -> bool:
    """The "show all keys" switch of long inputs (from and into the link; hidden in presentation mode)."""
    value = secondary("qkv_all_keys", lambda: st.toggle(
        f"Show all {n_tokens} keys", key="qkv_all_keys", value=url_bool("qkv_all_keys", default=False,
                                                                         what="show all keys"),
        help=f"Off: only the {TOP_K} keys with the largest weights, and the query."), False)
    share("qkv_all_keys", value)
    return value


def shown_keys(analysis: Analysis, step: steps.QuerySteps) -> np.ndarray:
    """All keys on short inputs; on long ones the query and its top keys, unless the reader asks for all."""
    n_tokens = analysis.n_tokens
    if n_tokens <= ALL_KEYS_UP_TO or show_all_keys(n_tokens):
        return np.arange(n_tokens)
    shown = steps.top_keys(step.weights, k=TOP_K, query=step.query_index, allowed=step.allowed)
    top = len(set(shown.tolist()) - {step.query_index})
    st.caption(f"Showing the query {tok(analysis.tokens[step.query_index])} and the {top} keys it weighs most, of "
               f"{n_tokens} tokens{' (it may only look at earlier ones)' if analysis.model.is_causal else ''}.")
    return shown


def query_and_keys(view: View) -> None:
    info, step = view.analysis.model, view.step
    st.subheader("1 · The query and the keys")
    d = step.head_dim
    split = f" (width {info.width} split over {info.n_heads} heads)" if info.width == info.n_heads * d else ""
    rotary = (" Both are taken **after rotary position embedding**: the vectors that actually meet in the dot "
              "product." if view.qkv.rotary else "")
    st.markdown(f"Layer {view.layer}, head {step.head}: every query and key has **d_k = {d}** numbers{split}.{rotary}")
    limit = float(np.abs(np.vstack([step.query[None], step.keys[view.shown]])).max())
    query_label = view.labels[step.query_index]
    chart(figures.vector_strips(vectors=step.query[None], labels=[query_label], zmax=limit,
                                title=f"query q of {query_label}"), key="qkv_query_fig")
    chart(figures.vector_strips(vectors=step.keys[view.shown], labels=view.shown_labels, zmax=limit,
                                title="key k of each token shown"), key="qkv_keys_fig")


def products(view: View) -> None:
    step, tokens = view.step, view.analysis.tokens
    st.subheader("2 · Multiply q and k number by number, then add up: q·k")
    st.markdown("Where q and k have the same sign the product is positive (red); the sum of a row is the raw score "
                f"q·k. For example q({tok(tokens[step.query_index])}) · k({tok(tokens[step.query_index])}) = "
                f"{step.raw[step.query_index]:.3f}.")
    left, right = st.columns([3, 1])
    chart(figures.vector_strips(vectors=step.products[view.shown], labels=view.shown_labels,
                                value_name="q∘k", title="q∘k (element-wise product)"),
          where=left, key="qkv_products_fig")
    chart(figures.score_bars(values=step.raw[view.shown], labels=view.shown_labels, title="sum: q·k",
                             highlight=view.query_row), where=right, key="qkv_raw_sum_fig")


def scale_mask_softmax(view: View) -> None:
    info, step = view.analysis.model, view.step
    st.subheader("3 · Scale, mask, softmax")
    d = step.head_dim
    scale = f"× {step.scale:.4f} = 1/√{d}" if abs(step.scale - d**-0.5) < 1e-6 else f"× {step.scale:.4f} (its scale)"
    hidden = int((~step.allowed).sum())
    mask = ("This is a decoder: a token may not look at later tokens, so their scores become −∞ and their weight "
            f"exactly 0 (here {hidden} later token{'s' if hidden != 1 else ''} hidden from "
            f"{tok(view.analysis.tokens[step.query_index])})." if info.is_causal else
            "This is an encoder: every token sees every token, so nothing is masked.")
    st.markdown(f"Scaling by 1/√d_k keeps scores from growing with the head width. {mask} Softmax turns the scores "
                "into weights that sum to 1: e^score / Σ e^score. ◇ marks the model's own weights.")
    charts = [(step.raw, "q·k"), (step.scaled, scale)]
    if info.is_causal:
        charts.append((step.masked, "+ causal mask"))
    charts.append((step.weights, "softmax → weights"))
    model_row = view.analysis.attentions[view.layer, step.head, step.query_index][view.shown]
    for index, (column, (values, title)) in enumerate(zip(st.columns(len(charts)), charts, strict=True)):
        last = index == len(charts) - 1
        chart(figures.score_bars(values=values[view.shown], labels=view.shown_labels, title=title,
                                 highlight=view.query_row, reference=model_row if last else None),
              where=column, key=f"qkv_step_fig_{index}")


def attention_row(view: View) -> None:
    step, analysis = view.step, view.analysis
    st.subheader("4 · The attention row")
    difference = steps.max_difference(step.weights, analysis.attentions[view.layer, step.head, step.query_index])
    top = int(np.argmax(step.weights))
    box = st.success if difference < 1e-4 else st.warning
    these = f"These {analysis.n_tokens} weights are" if analysis.n_tokens > 1 else "This one weight is"
    box(f"{these} the model's own attention weights for layer {view.layer}, head "
        f"{step.head}, query {tok(analysis.tokens[step.query_index])}: largest difference **{difference:.1e}**. "
        f"They sum to {step.weights.sum():.6f}; the largest, {step.weights[top]:.3f}, goes to "
        f"{tok(analysis.tokens[top])} (position {top}).", icon="✅" if difference < 1e-4 else "⚠️")


def values_and_output(view: View) -> None:
    step, info = view.step, view.analysis.model
    st.subheader("5 · Values, and the weighted sum")
    name = tok(view.analysis.tokens[step.query_index])
    st.markdown(f"Every token also offers a value vector v ({step.head_dim} numbers). The head's output for {name} "
                "is the sum of the values, each multiplied by its weight: keys with weight near 0 add almost nothing.")
    left, right = st.columns(2)
    chart(figures.vector_strips(vectors=step.values[view.shown], labels=view.shown_labels,
                                title="value v of each token shown"), where=left, key="qkv_values_fig")
    chart(figures.weighted_sum_figure(weighted_values=step.weighted_values[view.shown],
                                      output=step.output, labels=view.shown_labels),
          where=right, key="qkv_weighted_fig")
    projection = output_projection(view.loaded, view.layer)
    concatenated = steps.head_outputs(view.qkv, query=step.query_index).reshape(-1)  # (H*d,)
    projected = project_heads(view.loaded, view.layer, concatenated)  # (D,)
    d, head = step.head_dim, step.head
    st.markdown(
        f"**Where it goes next.** All {info.n_heads} heads of layer {view.layer} do this at once, each with its own "
        f"q, k and v. Their outputs for {name} ({info.n_heads} × {d} numbers) are **concatenated** into one vector of "
        f"{concatenated.size} numbers; the **output projection** `{projection.name}` ({projection.in_features} → "
        f"{projection.out_features}{', with bias' if projection.has_bias else ''}) mixes them into "
        f"{projected.size} numbers, {projection.then}.")
    chart(figures.vector_strips(
        vectors=concatenated[None], labels=[f"{info.n_heads} heads × {d}"], value_name="output",
        title=f"concatenated head outputs ({concatenated.size}): head {head} is dimensions "
              f"{head * d}–{head * d + d - 1}",
    ), key="qkv_concat_fig")
    chart(figures.vector_strips(vectors=projected[None], labels=[f"projected ({projected.size})"],
                                title="after the output projection", value_name="output"), key="qkv_proj_fig")


def every_head(view: View) -> None:
    info, qkv, step = view.analysis.model, view.qkv, view.step
    st.subheader("6 · Every head of this layer")
    rows = steps.layer_rows(qkv, query=step.query_index)  # (H, T)
    grouped = info.n_kv_heads < info.n_heads
    head_labels = [f"head {h} (kv {qkv.kv_head[h]})" if grouped else f"head {h}" for h in range(info.n_heads)]
    whole = steps.max_difference(rows, view.analysis.attentions[view.layer, :, step.query_index])
    name = tok(view.analysis.tokens[step.query_index])
    seen = step.query_index + 1 if info.is_causal else len(view.analysis.tokens)  # later keys are all 0
    chart(figures.head_grid(rows=rows[:, :seen], tokens=view.analysis.tokens[:seen], head_labels=head_labels,
                            selected=step.head, query_label=view.labels[step.query_index]), key="qkv_heads_fig")
    hidden = f" Keys after {name} have weight 0 in every head and are not drawn." if seen < rows.shape[1] else ""
    st.caption(f"Each row is one head's attention row for {name}, recomputed from q, k and the mask; largest "
               f"difference from the model's own weights over all {info.n_heads} heads: {whole:.1e}.{hidden}")
    if grouped:
        others = ", ".join(str(h) for h in steps.heads_sharing(qkv.kv_head, step.head) if h != step.head) or "none"
        st.info(f"**Grouped-query attention.** {info.name} has {info.n_heads} query heads but only {info.n_kv_heads} "
                f"key/value heads: each key/value head serves {info.n_heads // info.n_kv_heads} query heads, which "
                f"saves memory. Query head {step.head} uses **key/value head {step.kv_head}**, shared with query heads "
                f"{others}: they look with different queries at the same keys, and mix the same values.", icon="👥")


def sinusoid_tab(width: int, n_positions: int) -> None:
    table = steps.sinusoidal_table(n_positions, width)  # (P, D)
    st.latex(r"PE_{(p,\,2i)}=\sin\!\big(p/10000^{2i/D}\big)\qquad PE_{(p,\,2i+1)}=\cos\!\big(p/10000^{2i/D}\big)")
    left, right = st.columns(2)
    for column, start, name in ((left, 0, "sin"), (right, 1, "cos")):
        chart(figures.position_heatmap(
            table=table[:, start::2], zmax=1.0, x_title="i (pair of dimensions)",
            title=f"dimensions 2i{' + 1' if start else ''}: {name}, D = {width}"), where=column,
            key=f"qkv_sinusoid_{name}_fig")
    st.caption(f"The original Transformer adds this table to the token vectors. Position 0 is [0, 1, 0, 1, …]; "
               f"position 1 starts with sin 1 = {table[1, 0]:.3f}, cos 1 = {table[1, 1]:.3f}. Left columns change "
               "fast with position, right ones slowly, so every position gets its own pattern. Drawn with "
               f"D = {width}, this model's width.")


def learned_tab(loaded: LoadedModel, n_positions: int) -> None:
    table = learned_positions(loaded, n_positions)  # (P, D)
    similarity = cosine_matrix(table)  # (P, P)
    left, right = st.columns(2)
    chart(figures.position_heatmap(table=table, title=f"learned position embeddings ({table.shape[0]} × "
                                                     f"{table.shape[1]})"), where=left, key="qkv_learned_fig")
    chart(figures.position_heatmap(table=similarity, zmax=1.0, x_title="position",
                                   title="cosine similarity between positions"), where=right, key="qkv_learned_sim_fig")
    far = min(50, table.shape[0] - 1)
    near_cosine, far_cosine = np.diagonal(similarity, 1).mean(), np.diagonal(similarity, far).mean()
    st.caption(f"{loaded.info.name} learned one vector per position ({position_table_size(loaded)} rows) and adds it "
               f"to the token vector. Neighbours are alike: mean cosine of positions 1 apart {near_cosine:.2f}, "
               f"of positions {far} apart {far_cosine:.2f}.")


def rotary_tab(view: View) -> None:
    rotary, step, tokens = rotary_info(view.loaded), view.step, view.analysis.tokens
    curve = steps.rotary_curve(step, rotary.inv_freq, n_distances=view.analysis.model.max_tokens,
                               scaling=rotary.attention_scaling)
    pair = f"{visible(tokens[step.query_index])} → {visible(tokens[curve.key_index])}"
    at_real = float(curve.scores[curve.distance])
    chart(figures.rotary_distance_figure(
        distances=curve.distances, scores=curve.scores, agreement=steps.rotary_agreement(rotary.inv_freq,
                                                                                         curve.distances),
        marked_distance=curve.distance, marked_score=at_real, pair_label=pair), key="qkv_rotary_fig")
    turns = rotary.inv_freq
    st.caption(f"Llama adds nothing to the token vectors. Instead it turns each of the {len(turns)} pairs of numbers "
               f"in q and k by an angle that grows with position (from {turns.max():.3f} to {turns.min():.2e} radians "
               f"per token), so q·k depends only on how far apart two tokens are. Left: q and k of {pair} (layer "
               f"{view.layer}, head {step.head}) un-rotated, then placed Δ tokens apart; at their real distance "
               f"Δ = {curve.distance} the curve gives {at_real:.4f}; the q·k of step 2 is "
               f"{step.raw[curve.key_index]:.4f}.")


def word_order_tab(view: View) -> None:
    loaded, info, head, layer = view.loaded, view.analysis.model, view.step.head, view.layer
    rotary = rotary_info(loaded)
    found = []
    for text in WORD_ORDER:
        analysis = get_analysis(loaded, text)
        found.append((text, analysis, analysis.find_token("tim"), analysis.find_token("clouds")))
    if any(tim is None or clouds is None for _, _, tim, clouds in found):
        st.info("This model splits 'Tim' or 'clouds' into pieces, so the comparison is not shown.")
        return
    (_, a, a_tim, _), (_, b, b_tim, _) = found
    cosine = float(cosine_matrix(a.hidden_states[0][a_tim][None], b.hidden_states[0][b_tim][None])[0, 0])
    rows = []
    for text, analysis, tim, clouds in found:
        scores = steps.word_pair_scores(get_qkv(loaded, analysis, 0), head=head, query=tim, key=clouds,
                                        inv_freq=None if rotary is None else rotary.inv_freq,
                                        scaling=1.0 if rotary is None else rotary.attention_scaling)
        weights = analysis.attentions[layer, head]  # (T, T)
        rows.append({"sentence": text, "Tim at": tim, "clouds at": clouds,
                     **{SCORE_COLUMNS[name]: value for name, value in scores.items()},
                     f"weight Tim → clouds (layer {layer}, head {head})": float(weights[tim, clouds]),
                     f"weight clouds → Tim (layer {layer}, head {head})": float(weights[clouds, tim])})
    same = "the same tokens in a different order" if sorted(a.tokens) == sorted(b.tokens) else "different tokens"
    st.markdown("Attention itself ignores order: shuffle the tokens and each gets the same scores, only shuffled. "
                "**“Tim chased clouds”** and **“clouds chased Tim”** contain the same words; only position tells who "
                f"chased whom. The two sentences below have {same}: {' '.join(tok(t) for t in a.tokens)} and "
                f"{' '.join(tok(t) for t in b.tokens)}.")
    st.dataframe(rows, hide_index=True, key="qkv_word_order_table")
    if rotary is not None:
        plain = [r[SCORE_COLUMNS["q·k without rotary"]] for r in rows]
        turned = [r[SCORE_COLUMNS["q·k"]] for r in rows]
        st.caption(f"The vector entering layer 0 for “Tim” is {'the same' if cosine > 0.999999 else 'not the same'} in "
                   f"both sentences (cosine {cosine:.6f}): position enters only by rotating q and k. Un-rotated, "
                   f"layer 0 scores Tim → clouds {plain[0]:.4f} and {plain[1]:.4f}; rotated, {turned[0]:.4f} and "
                   f"{turned[1]:.4f}. A decoder also hides later tokens, so whoever comes first cannot see the other "
                   "at all (weight 0).")
    else:
        st.caption(f"“Tim” has the same token embedding in both sentences, but a different position embedding is "
                   f"added ({a_tim} vs {b_tim}), so the vector entering layer 0 differs (cosine {cosine:.3f}), and so "
                   "does every score computed from it."
                   + (" Later tokens are also hidden from earlier ones (weight 0)." if info.is_causal else ""))


def positions_section(view: View) -> None:
    loaded, info = view.loaded, view.analysis.model
    st.subheader("7 · Where position comes in")
    learned = position_table_size(loaded) > 0
    own_title = "Learned position embeddings" if learned else "Rotary embedding" if view.qkv.rotary else "This model"
    limit = min(info.max_tokens, position_table_size(loaded)) if learned else info.max_tokens
    n_positions = secondary("qkv_positions", lambda: st.slider(
        "Positions drawn", 2, max(3, limit), key="qkv_positions",
        value=url_int("qkv_positions", low=2, high=max(3, limit), default=min(128, max(3, limit)), what="positions")),
        min(128, max(3, limit)))
    share("qkv_positions", n_positions)
    sinusoid, own, order = st.tabs(["Sinusoidal formula (original Transformer)", own_title, "Tim chased clouds"])
    with sinusoid:
        sinusoid_tab(info.width, n_positions)
    with own:
        if learned:
            learned_tab(loaded, n_positions)
        elif view.qkv.rotary:
            rotary_tab(view)
        else:
            st.info(f"{info.name} has no position table or rotary embedding the app can read.")
    with order:
        word_order_tab(view)


def top_key_question(view: View) -> dict:
    """Predict-then-reveal: which key will this query weigh most? (Guesses among the keys shown, when few.)"""
    step, labels = view.step, view.labels
    question = (f"In layer {view.layer}, head {step.head}, which token will the query "
                f"{tok(view.analysis.tokens[step.query_index])} give the largest weight? Look at q and the keys above.")
    options = view.shown_labels if len(view.shown) <= 20 else []
    return {"question": question, "key": "qkv_reveal", "options": options,
            "answer": labels[int(np.argmax(step.weights))] if options else None}


def main() -> None:
    st.title("Q, K, V: how one attention weight is computed")
    tour_ui("qkv")
    st.markdown("Each token asks a question (its **query** q), every token offers a label (its **key** k) and content "
                "(its **value** v) — like humming a tune and matching it against the titles of a party playlist to "
                "pick which songs to play. Match scores become weights that sum to 1:")
    st.latex(r"\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\left(\frac{QK^{\top}}{\sqrt{d_k}}+\mathrm{mask}\right)V")
    loaded = current_model()
    analysis = analysis_or_stop(loaded, selection().text)
    layer, head = layer_head_ui(analysis.model, key="qkv")
    query = token_ui(analysis, key="qkv_token", label="Query token", default_word="party")
    qkv = get_qkv(loaded, analysis, layer)
    step = steps.query_steps(qkv, head=head, query=query)
    if analysis.n_tokens == 1:
        st.info(f"Your text is a single token, {tok(analysis.tokens[0])}. A token can only attend to the tokens it "
                "sees, here only itself: whatever q·k is, softmax over one score gives weight 1. Type a longer "
                "sentence to see tokens compete.", icon="☝️")
    view = View(loaded, analysis, qkv, step, layer, shown_keys(analysis, step), hover_labels(analysis.tokens))
    shown = export_ui("qkv", model=analysis.model, analyses=[analysis], title="Q, K, V")
    shown.update({"layer": layer, "head": head, "query": query, "keys_shown": view.shown, "q": step.query,
                  "k": step.keys, "v": step.values, "q_dot_k": step.raw, "scaled": step.scaled,
                  "weights": step.weights, "model_weights": analysis.attentions[layer, head, query],
                  "head_output": step.output})
    query_and_keys(view)
    if reveal_ui(**top_key_question(view)):
        for section in (products, scale_mask_softmax, attention_row, values_and_output, every_head):
            section(view)
    positions_section(view)


main()
