"""BertViz head and model views (the real bertviz package) as self-contained HTML that is offline, safe and bounded.

- Offline: require.js, d3 and jQuery are inlined from the files `make js` fetched from npm (viz/js_assets.py),
  instead of BertViz's CDN <script> tags.
- Safe: BertViz pastes the tokens into an inline <script> as JSON, where a token like "</script><img …>"
  would end the script. Tokens go through BertViz as harmless placeholders and come back as JSON with <, >
  and & written as \\u003c, \\u003e, \\u0026; a Content-Security-Policy with a per-view nonce also stops
  any script or event handler that is not ours, and any network request.
- Bounded: only the chosen layers (and, in the model view, heads) are written, rounded to 3 decimals.
Shapes: L layers, H heads, T tokens.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bertviz import head_view, model_view

from viz.figures.common import visible
from viz.js_assets import ASSET_DIR, ASSETS, read_assets
from viz.model.attention_tensors import as_layer_tensors

BERTVIZ_MAX_TOKENS = 128  # a box per token and a line per weight: beyond this the views stall a browser
BERTVIZ_MAX_DATA_BYTES = 4_000_000  # weights written into one view, estimated before building it
DECIMALS = 3
BYTES_PER_WEIGHT = 6  # "0.123," as BertViz writes a rounded weight
CDN_REQUIRE_TAG = '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"></script>'
BERTVIZ_SCRIPT_TAG = '<script type="text/javascript">'
PARAMS_START = "const params = "
PARAMS_END = "; // HACK: "
COMMENT_END = " is a template marker that is replaced by actual params."
CROSS_FILTER = "2"  # BertViz's encoder–decoder menu: 0 encoder, 1 decoder, 2 cross-attention
WHOLE_NUMBER = re.compile(r"(?<=[\[,])([01])\.0(?=[,\]])")
AMD_SHIMS = 'define("d3", [], function () { return window.d3; });\n' \
            'define("jquery", [], function () { return window.jQuery; });'


class ViewTooLarge(ValueError):
    """The view would send more data than the browser can draw smoothly; the message says what to reduce."""


def estimate_data_bytes(*, n_tokens: int, n_layers: int, n_heads: int, pair: bool) -> int:
    """Bytes of attention weights BertViz writes: L·H·T² numbers, about twice that with a sentence pair."""
    return n_layers * n_heads * n_tokens**2 * BYTES_PER_WEIGHT * (2 if pair else 1)


def safe_json(value) -> str:
    """Compact JSON that cannot end or open an HTML element inside a <script>: <, > and & are written \\u003c…"""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def local_asset_paths() -> dict[str, Path]:
    """URL patterns of the CDN files raw BertViz HTML asks for, mapped to the local copies (for benchmarks)."""
    files = {asset.package: ASSET_DIR / asset.file_name for asset in ASSETS}
    return {"**/require.js/2.3.6/require.min.js": files["requirejs"], "**/d3/5.7.0/d3.min.js": files["d3"],
            "**/jquery/2.0.0/jquery.min.js": files["jquery"]}


def head_view_html(*, tokens: Sequence[str], attentions: np.ndarray, layer: int,
                   sentence_b_start: int | None = None) -> str:
    """The BertViz head view of one layer (all its heads), as a complete HTML document.

    Shapes: tokens T strings, attentions (L, H, T, T). Raises MissingAssets or ViewTooLarge.
    """
    _check_size(len(tokens), 1, attentions.shape[1], sentence_b_start)
    tensors = as_layer_tensors(attentions, layers=[layer], decimals=DECIMALS)
    # BertViz right-aligns the left column at 110 px, so long tokens would be cut off at the frame's edge
    left_pad = int(min(320, max(0, 8 * max(map(len, tokens), default=0) - 100)))
    return _render(head_view, {"tokens": tokens}, attention=tensors, layer=layer, include_layers=[layer],
                   sentence_b_start=sentence_b_start, left_pad=left_pad)


def model_view_html(*, tokens: Sequence[str], attentions: np.ndarray, layers: Sequence[int], heads: Sequence[int],
                    sentence_b_start: int | None = None) -> str:
    """The BertViz model view of the chosen layers × heads, as a complete HTML document.

    Shapes: tokens T strings, attentions (L, H, T, T). Raises MissingAssets or ViewTooLarge.
    """
    if not layers or not heads:
        raise ViewTooLarge("Pick at least one layer and one head.")
    _check_size(len(tokens), len(layers), len(heads), sentence_b_start)
    tensors = as_layer_tensors(attentions, layers=layers, decimals=DECIMALS)
    return _render(model_view, {"tokens": tokens}, attention=tensors, include_layers=sorted(layers),
                   include_heads=sorted(heads), sentence_b_start=sentence_b_start, display_mode="light")


def encoder_decoder_html(kind: str, *, source_tokens: Sequence[str], target_tokens: Sequence[str],
                         encoder: np.ndarray, decoder: np.ndarray, cross: np.ndarray, layers: Sequence[int],
                         heads: Sequence[int] | None = None) -> str:
    """BertViz's encoder–decoder head view ("head", first of `layers`) or model view ("model"): a menu switches
    between the encoder's, the decoder's and the cross-attention.

    Shapes: encoder (Le, He, S, S), decoder (Ld, H, T, T), cross (Ld, H, T, S); only layers present on both sides
    can be shown. Raises MissingAssets or ViewTooLarge.
    """
    n_source, n_target = len(source_tokens), len(target_tokens)
    if not layers or (kind == "model" and not heads):
        raise ViewTooLarge("Pick at least one layer and one head.")
    if max(n_source, n_target) > BERTVIZ_MAX_TOKENS:
        raise ViewTooLarge(f"BertViz is limited to {BERTVIZ_MAX_TOKENS} tokens a side here; this pair has "
                           f"{n_source} source and {n_target} output tokens.")
    n_heads = len(heads) if kind == "model" else cross.shape[1]
    size = len(layers) * n_heads * (n_source**2 + n_target**2 + n_source * n_target) * BYTES_PER_WEIGHT
    if size > BERTVIZ_MAX_DATA_BYTES:
        raise ViewTooLarge(f"{len(layers)} layer(s) × {n_heads} head(s) of three attentions is about "
                           f"{size / 1e6:.1f} MB, over the {BERTVIZ_MAX_DATA_BYTES / 1e6:.0f} MB this page sends to "
                           "one view: pick fewer layers or heads.")
    chosen = sorted(layers)
    tensors = {name: as_layer_tensors(array, layers=chosen, decimals=DECIMALS)
               for name, array in (("encoder_attention", encoder), ("decoder_attention", decoder),
                                   ("cross_attention", cross))}
    names = {"encoder_tokens": source_tokens, "decoder_tokens": target_tokens}
    if kind == "head":
        left_pad = int(min(320, max(0, 8 * max(map(len, [*source_tokens, *target_tokens]), default=0) - 100)))
        html = _render(head_view, names, layer=chosen[0], include_layers=chosen, left_pad=left_pad,
                       default_filter=CROSS_FILTER, **tensors)
    else:
        html = _render(model_view, names, include_layers=chosen, include_heads=sorted(heads), display_mode="light",
                       default_filter=CROSS_FILTER, **tensors)
    # open on the cross-attention, the one this kind of model adds, with BertViz's menu saying so
    return html.replace(f'<option value="{CROSS_FILTER}">', f'<option value="{CROSS_FILTER}" selected>', 1)


def head_view_height(n_tokens: int) -> int:
    """Pixels the head view needs: 22.5 per token row plus its header."""
    return int(22.5 * n_tokens + 130)


def model_view_height(n_tokens: int, n_layers: int, n_heads_total: int) -> int:
    """Pixels the model view needs: one row of thumbnails per layer, or the detail panel if taller."""
    thumbnails = n_layers * (n_tokens * 7 * 12 / n_heads_total + 10) + 38
    detail = n_tokens * 18 + 55
    return int(max(thumbnails, detail) + 90)


def _check_size(n_tokens: int, n_layers: int, n_heads: int, sentence_b_start: int | None) -> None:
    if n_tokens > BERTVIZ_MAX_TOKENS:
        raise ViewTooLarge(f"BertViz is limited to {BERTVIZ_MAX_TOKENS} tokens here; this text has {n_tokens}.")
    size = estimate_data_bytes(n_tokens=n_tokens, n_layers=n_layers, n_heads=n_heads,
                               pair=sentence_b_start is not None)
    if size > BERTVIZ_MAX_DATA_BYTES:
        raise ViewTooLarge(
            f"{n_layers} layer(s) × {n_heads} head(s) × {n_tokens}² weights is about {size / 1e6:.1f} MB, over the "
            f"{BERTVIZ_MAX_DATA_BYTES / 1e6:.0f} MB this page sends to one view: pick fewer layers or heads."
        )


def _render(view, token_lists: dict[str, Sequence[str]], *, left_pad: int = 0, default_filter: str | None = None,
            **arguments) -> str:
    """Run a BertViz view on placeholder tokens, then write its parameters again: real tokens, compact numbers.

    token_lists: BertViz's token arguments ("tokens", or "encoder_tokens" and "decoder_tokens") and their tokens.
    """
    assets = read_assets()  # before the work, so a missing library is reported at once
    marker = f"bvtok{secrets.token_hex(6)}n"
    real: dict[str, str] = {}
    for number, (argument, tokens) in enumerate(token_lists.items()):
        placeholders = [f"{marker}{number}x{i}" for i in range(len(tokens))]
        real.update(zip(placeholders, (visible(token) for token in tokens), strict=True))
        arguments[argument] = placeholders
    html = view(prettify_tokens=False, html_action="return", **arguments).data
    start = html.index(PARAMS_START) + len(PARAMS_START)
    end = html.index(PARAMS_END, start)  # BertViz pastes the parameters a second time into this comment
    after_comment = html.index(COMMENT_END, end) + len(COMMENT_END)
    params = json.loads(html[start:end])
    if default_filter is not None:  # which of BertViz's attention menus it opens on
        params["default_filter"] = default_filter
    html = html[:start] + _params_script(params, real) + ";" + html[after_comment:]
    if marker in html:
        raise RuntimeError("a token placeholder was not replaced; the bertviz output format changed")
    return _document(html, assets, left_pad)


def _params_script(params: dict, real: dict[str, str]) -> str:
    """BertViz's parameters as a JavaScript literal: escaped token text, numbers without ", " and trailing ".0"."""
    views = [
        f'{{"name":{safe_json(view["name"])},"attn":{_numbers(view["attn"])},'
        f'"left_text":{safe_json([real[t] for t in view["left_text"]])},'
        f'"right_text":{safe_json([real[t] for t in view["right_text"]])}}}'
        for view in params["attention"]
    ]
    rest = safe_json({key: value for key, value in params.items() if key != "attention"})
    return '{"attention":[' + ",".join(views) + "]," + rest[1:]


def _numbers(nested: list) -> str:
    """Nested lists of rounded weights as compact JSON: 0.0 and 1.0 written as 0 and 1 (no strings inside)."""
    text = json.dumps(nested, separators=(",", ":"))
    return WHOLE_NUMBER.sub(r"\1", text)


def _document(bertviz_html: str, assets: dict[str, str], left_pad: int = 0) -> str:
    """A full HTML page: libraries inline, BertViz's CDN tag removed, only scripts carrying our nonce may run."""
    if bertviz_html.count(CDN_REQUIRE_TAG) != 1 or bertviz_html.count(BERTVIZ_SCRIPT_TAG) != 1:
        raise RuntimeError("unexpected bertviz HTML layout; check the pinned bertviz version")
    nonce = secrets.token_urlsafe(16)
    body = bertviz_html.replace(CDN_REQUIRE_TAG, "").replace(BERTVIZ_SCRIPT_TAG, f'<script nonce="{nonce}">')
    libraries = [assets["d3"], assets["jquery"], assets["requirejs"], AMD_SHIMS]
    for library in libraries:
        lowered = library.lower()
        if "</script" in lowered or "<!--" in lowered:
            raise RuntimeError("a JavaScript library contains text that would end its inline <script>")
    scripts = "\n".join(f'<script nonce="{nonce}">\n{library}\n</script>' for library in libraries)
    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
              "base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        f"<style>body {{ margin: 0 0 0 {left_pad}px; background: white; color: black; }} "
        "svg { overflow: visible; }</style>\n"
        f"{scripts}\n</head><body>\n{body}\n</body></html>\n"
    )
