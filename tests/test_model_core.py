"""The model layer and the analysis object, on the bundled models and tiny random ones."""

import numpy as np
import pytest
from conftest import PARTY, PARTY_POLITICS

from viz.compute import attention_from_qkv
from viz.model import ModelLoadError, analyze, attention_qkv, load_model, resolve_model
from viz.model.registry import UnknownModel
from viz.text import EmptyText


def test_encoder_ids_match_seed_article(encoder):
    analysis = analyze(encoder, PARTY)
    assert analysis.token_ids.tolist() == [101, 2493, 8439, 1996, 7665, 2007, 1037, 2502, 2283, 102]
    assert analysis.tokens[0] == "[CLS]" and analysis.tokens[-1] == "[SEP]" and analysis.tokens[8] == "party"
    assert analysis.special.tolist() == [True] + [False] * 8 + [True]
    assert analysis.word_ids[1:9] == tuple(range(8)) and analysis.word_ids[0] is None


def test_encoder_shapes(encoder):
    analysis = analyze(encoder, PARTY)
    assert analysis.attentions.shape == (6, 12, 10, 10)
    assert analysis.hidden_states.shape == (7, 10, 384)
    assert analysis.model.kind == "encoder"
    assert not hasattr(analysis, "logits")  # next-token scores are not kept in every cached analysis


def test_decoder_splits_paris_like_gpt2(decoder):
    analysis = analyze(decoder, "paris")
    assert analysis.tokens == ("par", "is")
    assert analysis.word_ids == (0, 0)


def test_decoder_shapes_and_next_token(decoder):
    from viz.model.generation import full_rerun_logits

    analysis = analyze(decoder, "London was")
    info = analysis.model
    assert (info.n_layers, info.n_heads, info.n_kv_heads, info.family) == (30, 9, 3, "llama")
    assert analysis.attentions.shape == (30, 9, 2, 2)
    assert analysis.nbytes == sum(a.nbytes for a in (analysis.token_ids, analysis.special, analysis.attentions,
                                                      analysis.hidden_states))
    logits = full_rerun_logits(decoder, analysis.token_ids.tolist())
    assert logits.shape == (info.vocab_size,)
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    top = [decoder.tokenizer.decode([i]) for i in np.argsort(probabilities)[::-1][:2]]
    assert top == [" a", " the"]  # measured in ../shared/examples.md
    assert probabilities[np.argsort(probabilities)[-1]] == pytest.approx(0.12, abs=0.02)


@pytest.mark.parametrize("fixture", ["encoder", "decoder", "tiny_gpt2", "tiny_bert", "tiny_distilbert"])
def test_attention_rows_sum_to_one_and_causal_mask(fixture, request):
    loaded = request.getfixturevalue(fixture)
    text = "The animal didn't cross the street because it was too tired."
    analysis = analyze(loaded, text, attention_dtype=np.float32)  # float16 rows sum to 1 only within its rounding
    np.testing.assert_allclose(analysis.attentions.sum(-1), 1.0, atol=1e-5)
    upper = np.triu(np.ones((analysis.n_tokens,) * 2, dtype=bool), k=1)
    if loaded.info.is_causal:
        assert np.abs(analysis.attentions[..., upper]).max() == 0.0
    else:
        assert analysis.attentions[..., upper].max() > 0.01


@pytest.mark.parametrize("fixture", ["encoder", "decoder", "tiny_gpt2", "tiny_bert", "tiny_distilbert"])
def test_qkv_reproduces_model_attention(fixture, request):
    loaded = request.getfixturevalue(fixture)
    analysis = analyze(loaded, PARTY, PARTY_POLITICS, attention_dtype=np.float32)
    for layer in range(loaded.info.n_layers):
        qkv = attention_qkv(loaded, analysis, layer)
        assert qkv.queries.shape == (loaded.info.n_heads, analysis.n_tokens, loaded.info.head_dim)
        assert qkv.keys.shape == qkv.queries.shape == qkv.values.shape
        difference = np.abs(attention_from_qkv(qkv) - analysis.attentions[layer]).max()  # full precision
        assert difference < 1e-4, f"layer {layer}: {difference}"


def test_grouped_query_heads_share_keys(decoder):
    analysis = analyze(decoder, PARTY)
    qkv = attention_qkv(decoder, analysis, 3)
    assert qkv.kv_head.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2] and qkv.rotary
    np.testing.assert_array_equal(qkv.keys[0], qkv.keys[2])
    assert not np.allclose(qkv.keys[0], qkv.keys[3])


def test_pair_mode_marks_second_sentence(encoder, decoder):
    pair = analyze(encoder, PARTY, PARTY_POLITICS)
    assert pair.tokens[pair.sentence_b_start] == "deputy" and pair.tokens[pair.sentence_b_start - 1] == "[SEP]"
    assert pair.word_ids[pair.sentence_b_start] == 8  # words numbered on across the pair
    stream = analyze(decoder, PARTY, PARTY_POLITICS)
    assert stream.tokens[stream.sentence_b_start].strip() == "deputy"


def test_long_text_is_truncated_with_notice(encoder):
    analysis = analyze(encoder, "word " * 700)
    assert analysis.n_tokens == 512 and analysis.dropped_tokens == 702 - 512
    assert any("190 were dropped" in notice for notice in analysis.notices)


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_text_is_refused(encoder, text):
    with pytest.raises(EmptyText):
        analyze(encoder, text)


ODD_TEXTS = ["👍🏽 great 👨‍👩‍👧", "مرحبا بالعالم", "a\u200db\u200bc", "tab\there\x07bell", "lone \ud800 half"]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_text_is_analysed(encoder, decoder, text):
    for loaded in (encoder, decoder):
        analysis = analyze(loaded, text)
        assert analysis.n_tokens >= 1
        assert all("\ufffd" not in token for token in analysis.tokens)


def test_cjk_tokens_are_shown_as_text(decoder):
    analysis = analyze(decoder, "我正在吃饭")
    assert "".join(t.split("(")[0] for t in analysis.tokens).replace("在", "") != ""
    assert analysis.tokens[0].startswith("我") and "\ufffd" not in "".join(analysis.tokens)


def test_unknown_hub_id_offline_gives_readable_error():
    with pytest.raises(ModelLoadError, match="Hugging Face Hub"):
        load_model(resolve_model("no-such-user/no-such-model-xyz"))


@pytest.mark.parametrize("choice", ["/etc", "../../etc/passwd", "not a valid id!", "", "<script>"])
def test_bad_model_names_are_refused(choice):
    with pytest.raises(UnknownModel):
        resolve_model(choice)


def test_pickle_weights_are_never_loaded(tiny_bert):
    """A folder with only a pickle checkpoint (pytorch_model.bin) is refused, not unpickled."""
    import shutil

    import torch

    from viz.model.registry import LOCAL_MODELS_DIR

    folder = LOCAL_MODELS_DIR / "pickle-only"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tiny_bert.model.config.save_pretrained(folder)
    tiny_bert.tokenizer.save_pretrained(folder)
    torch.save(tiny_bert.model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError):
        load_model(resolve_model(str(folder)))


def test_remote_code_is_never_run(tmp_path):
    """A config that asks for custom code is refused without importing that code."""
    import json

    from viz.model.registry import LOCAL_MODELS_DIR

    folder = LOCAL_MODELS_DIR / "remote-code"
    folder.mkdir(parents=True, exist_ok=True)
    marker = tmp_path / "ran"
    (folder / "config.json").write_text(json.dumps(
        {"model_type": "evil", "auto_map": {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}}))
    (folder / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    with pytest.raises(ModelLoadError):
        load_model(resolve_model(str(folder)))
    assert not marker.exists()
