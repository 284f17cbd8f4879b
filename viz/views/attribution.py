"""Attribution sections: why the decoder scored its next token (Next token), why one word's two uses differ (Word
senses). Integrated gradients and gradient × input per token, drawn as shaded strips beside the attention strip.

Attention weights say where a position looked; attribution asks how much each token changed one number the model
computed. The two answer different questions (Jain & Wallace 2019; Wiegreffe & Pinter 2019), so the Next-token
section shows their rank correlation instead of presenting either as "the reason".
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from viz import similarity as sim
from viz.analysis import ModelInfo
from viz.attribution import attention_agreement, strongest, symmetric_limit
from viz.figures.attribution import attribution_strip
from viz.figures.common import code_token, plotly_label, visible
from viz.sampling import Distribution
from viz.text import escape_markdown as plain
from viz.ui import attribution as attributions
from viz.ui import cached, session
from viz.ui.export import chart
from viz.ui.links import ON_OFF, linked, whole
from viz.ui.widgets import Sentences, choose

CANDIDATES = 10  # the tokens one can ask about: the top of the bars
COMPLETE = 0.05  # below this |delta| / |output − baseline| the shares are called complete


def _tokens(labels, count: int = 3, sign: int = 1, values=None) -> str:
    found = strongest(labels, values, count=count, sign=sign)
    return ", ".join(code_token(label) for label in found) or "none"


def completeness_ui(result: attributions.Attribution, number: str, total: float | None = None) -> None:
    """Output, baseline output, their difference, the sum of the shares (`total`, else this record's) and
    Captum's delta, with a verdict."""
    columns = st.columns(5)
    difference = result.output - result.baseline_output
    columns[0].metric(number, f"{result.output:.4g}")
    columns[1].metric("At the baseline", f"{result.baseline_output:.4g}",
                      help="The same number with the tokens replaced by the padding token (see the caption).")
    columns[2].metric("Difference", f"{difference:+.4g}", help="What integrated gradients must share out.")
    total = float(result.integrated_gradients.sum()) if total is None else total
    columns[3].metric("Sum of the shares", f"{total:+.4g}", help="Integrated gradients, every token (both strips).")
    columns[4].metric("Convergence delta", f"{result.delta:+.2g}", help="Sum of the shares − difference (Captum).")
    relative = result.relative_delta
    share = "less than 0.01%" if relative < 1e-4 else f"{relative:.2%}" if relative < 10 else f"{relative:.0f} times"
    if result.relative_delta <= COMPLETE:
        st.caption(f"The integrated-gradients shares add up to the difference, off by {share} of it "
                   f"({result.steps} steps, {result.method}): each share is a fair part of the change.")
    else:
        st.warning(f"The integrated-gradients shares miss the difference by {share} of it ({result.steps} steps, "
                   f"{result.method}). The model's output changes too unevenly along the path from the baseline "
                   "for this many steps, so read that strip as rough; gradient × input is a different, local "
                   "estimate and has no such check.", icon=":material/warning:")


def explain_ui(info: ModelInfo, run: session.Generation, prediction: session.Prediction, dist: Distribution,
               labels: list[str], shown: dict) -> None:
    """Integrated gradients and gradient × input of one candidate's logit, beside the attention strip above it."""
    st.subheader("Why this token? Attribution beside attention")
    if not linked("next_explain", ON_OFF, False, lambda: st.toggle(
            "Explain this prediction", key="next_explain",
            help=f"Integrated gradients: {attributions.DECODER_IG_STEPS} forward and backward passes (seconds on a "
                 "small CPU), computed once and shared.")):
        st.caption("Attention shows where the newest position looked. Attribution asks a different question: how "
                   "much did each earlier token raise or lower the score of the predicted token? Switch on "
                   "**Explain this prediction** to compute it.")
        return
    context = run.ids[:prediction.length]
    candidates = dist.ranked(CANDIDATES).tolist()
    names = cached.candidate_labels(info.key, context, candidates)
    rank = linked("next_explain_rank", whole(0, len(candidates) - 1), 0, lambda: st.selectbox(
        "Explain the score of", range(len(candidates)), key="next_explain_rank",
        format_func=lambda i: f"{i + 1}. {visible(names[i])} ({dist.probabilities[candidates[i]]:.1%})"))
    result = attributions.next_token(info.key, context, candidates[rank])
    start = prediction.length - len(result.token_ids)
    window = labels[start:prediction.length]
    name = code_token(names[rank])
    for values, method in ((result.integrated_gradients, "Integrated gradients"),
                           (result.grad_times_input, "Gradient × input")):
        chart(attribution_strip(labels=window, values=values, positions=range(start, prediction.length),
                                value_name=method.lower(), limit=symmetric_limit(values), marked=len(window) - 1,
                                title=f"{method}: each token's share of the logit of {plotly_label(names[rank])}"),
              key=f"next_explain_{'ig' if method.startswith('I') else 'gxi'}")
    st.caption(f"Red raised the logit of {name}, blue lowered it. Raised it most (integrated gradients): "
               f"{_tokens(window, values=result.integrated_gradients)}; lowered it most: "
               f"{_tokens(window, sign=-1, values=result.integrated_gradients)}. The baseline replaces every token "
               "but the first by the padding (or end-of-text) token. The first is kept: decoders such as SmolLM2 park "
               "much of their attention on it, and replacing it too breaks the path from baseline to text, so its "
               "integrated-gradients share is 0 by construction."
               + (f" Only the last {len(window)} of {prediction.length} tokens are read here (each costs a pass per "
                  "step), so the logit explained is that of the shortened text." if start else ""))
    completeness_ui(result, "Logit of the chosen token")
    shown["attribution"] = {
        "target_token_id": candidates[rank], "target_token": names[rank], "tokens": window,
        "integrated_gradients": result.integrated_gradients, "grad_times_input": result.grad_times_input,
        "output": result.output, "baseline_output": result.baseline_output, "delta": result.delta,
        "steps": result.steps, "spearman_with_attention": agreement_ui(result, start, shown.get("attention"))}


def agreement_ui(result: attributions.Attribution, start: int, attention: dict | None) -> dict:
    """Spearman correlation between the attention strip above (its layer and head) and each attribution's size."""
    if attention is None:
        return {}
    weights = np.asarray(attention["weights"])[start:]
    compared = ~result.kept
    heads = "mean of all heads" if attention["head"] == "mean of all heads" else f"head {attention['head']}"
    rho = {method: attention_agreement(weights, values, compared) for method, values in
           (("integrated gradients", result.integrated_gradients), ("gradient × input", result.grad_times_input))}
    columns = st.columns(2)
    for column, (method, value) in zip(columns, rho.items(), strict=True):
        column.metric(f"Attention vs |{method}|", "—" if value is None else f"ρ = {value:+.2f}",
                      help="Spearman rank correlation: +1 same order, 0 unrelated, −1 opposite order.")
    st.caption(f"Attention = layer {attention['layer']}, {heads} (the strip above; change it there), compared "
               f"with the size of each token's share over the {int(compared.sum())} tokens the baseline replaces. "
               "A weak correlation is common: a head can look at a token that changes the prediction little, and "
               "a token can matter through other positions and layers.")
    return {"layer": attention["layer"], "head": attention["head"], **rho}


def word_pair_ui(found: Sentences, shown: dict) -> None:
    """Which tokens of two sentences pulled one word's last-layer vectors apart: both sentences' shares of the
    cosine, as two strips on one colour scale."""
    first = sim.first_per_sentence(found.occurrences)
    containing, word = sorted(first), plain(found.word.strip(), 40)
    if len(containing) < 2:
        return  # the chart above already asks for a word in two sentences
    info = found.analyses[0].model
    st.subheader(f"Why are the two “{word}”s apart? Attribution of their cosine")
    if info.is_causal:
        st.caption("Attributing the cosine is offered for encoders here (the bundled MiniLM): pick one in the sidebar.")
        return
    if not linked("sim_explain", ON_OFF, False, lambda: st.toggle(
            "Explain the difference", key="sim_explain",
            help=f"Integrated gradients on both sentences: {attributions.IG_STEPS} forward and backward passes.")):
        st.caption(f"Which words of each sentence pulled the two “{word}” vectors apart (or together)? Switch on "
                   "**Explain the difference** to compute it.")
        return
    labels = [sim.sentence_label(i, found.texts) for i in containing]
    columns = st.columns(2)
    a = containing[choose(columns[0], "Sentence A", labels, key="sim_explain_a")]
    last = {i: values[-1] for i, values in sim.word_similarity_by_layer(found.analyses, found.occurrences, a).items()}
    b = containing[choose(columns[1], "Sentence B", labels, key="sim_explain_b",
                          index=containing.index(min(last, key=last.get)))]
    if a == b:
        st.info("Pick two different sentences.", icon=":material/compare_arrows:")
        return
    one, other = found.analyses[a], found.analyses[b]
    try:
        pair = attributions.word_pair(info.key, one.token_ids, first[a].positions, other.token_ids, first[b].positions)
    except ValueError as error:
        st.info(f"Attribution reads at most {attributions.MAX_TOKENS} tokens per sentence: {error}.")
        return
    _pair_strips(pair, (one.tokens, other.tokens), (a, b), "integrated_gradients", "Integrated gradients")
    st.caption(f"Blue tokens pulled the two “{word}” vectors apart (lowered the cosine), red ones pulled them "
               f"together. Apart most in S{a + 1}: {_tokens(one.tokens, sign=-1, values=pair[0].integrated_gradients)}"
               f"; in S{b + 1}: {_tokens(other.tokens, sign=-1, values=pair[1].integrated_gradients)}. The baseline "
               f"keeps “{word}” and the special tokens and replaces every other token by the padding token: the "
               "word alone, in an empty context.")
    completeness_ui(pair[0], "Cosine, last layer", float(sum(r.integrated_gradients.sum() for r in pair)))
    with st.expander("Gradient × input (a local, first-order estimate)"):
        _pair_strips(pair, (one.tokens, other.tokens), (a, b), "grad_times_input", "Gradient × input")
    shown["attribution"] = {
        "sentences": [f"S{a + 1}", f"S{b + 1}"], "cosine": pair[0].output, "baseline_cosine": pair[0].baseline_output,
        "delta": pair[0].delta, "steps": pair[0].steps,
        **{f"S{i + 1}": {"tokens": list(tokens), "integrated_gradients": r.integrated_gradients,
                         "grad_times_input": r.grad_times_input}
           for i, tokens, r in ((a, one.tokens, pair[0]), (b, other.tokens, pair[1]))}}


def _pair_strips(pair, tokens, sentences, field: str, method: str) -> None:
    """Two strips (one per sentence) of one attribution method, on one colour scale."""
    limit = symmetric_limit(*(getattr(result, field) for result in pair))
    for result, labels, index in zip(pair, tokens, sentences, strict=True):
        chart(attribution_strip(labels=labels, values=getattr(result, field), value_name=method.lower(),
                                limit=limit, title=f"{method}, S{index + 1}: each token's share of the cosine"),
              key=f"sim_explain_{field}_{index}")
