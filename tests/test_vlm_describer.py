"""VLMDescriber end to end, offline, on a tiny randomly initialised LLaVA built in the test.

The model is LlavaForConditionalGeneration with a tiny CLIP vision tower and a tiny Llama text
model; its processor is a byte-level BPE tokenizer trained here (with ``<image>`` as a special
token), the PIL CLIP image processor and a LlavaProcessor with a chat template. The words it
generates are random and differ across transformers versions, so no test asserts them.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

pytest.importorskip("transformers")

from ronin_lite.grounding import VLMDescriber, make_describer  # noqa: E402

CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'].upper() }}: {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}{% endif %}{% endfor %} "
    "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


def _build_tiny_llava(folder) -> None:
    """Save a tiny random LLaVA and its processor to ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (CLIPImageProcessorPil, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor,
                              PreTrainedTokenizerFast)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    corpus = ["USER: ASSISTANT: Describe and evaluate the quality of the image.",
              "The image is affected by heavy noise and slight blur. The quality is poor."] * 20
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<pad>", "<s>", "</s>", "<image>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        padding_side="left", model_input_names=["input_ids", "attention_mask"],
        extra_special_tokens={"image_token": "<image>"})
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32},
                                            crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                               patch_size=8, vision_feature_select_strategy="default",
                               num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE)
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, image_size=32, patch_size=8,
                              projection_dim=32)
    text = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                       num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                       max_position_embeddings=256, pad_token_id=0, bos_token_id=1,
                       eos_token_id=2)
    config = LlavaConfig(vision_config=vision, text_config=text,
                         image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
                         vision_feature_select_strategy="default", vision_feature_layer=-1)
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llava")
    _build_tiny_llava(folder)
    return folder


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(0).random((3, 48, 48, 3), dtype=np.float32)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_vlm_describer_gives_one_description_per_frame_in_batches(tiny_llava, frames):
    describer = VLMDescriber(str(tiny_llava), batch_size=2, max_new_tokens=6, device="cpu")
    texts = describer.describe(frames)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert describer.name == f"vlm:{tiny_llava}"
    assert describer.config()["prompt"] == "Describe and evaluate the quality of the image."


def test_vlm_describer_is_deterministic_under_its_seed(tiny_llava, frames):
    greedy = VLMDescriber(str(tiny_llava), batch_size=2, max_new_tokens=6, device="cpu")
    assert greedy.describe(frames) == greedy.describe(frames)
    sampled = VLMDescriber(str(tiny_llava), batch_size=3, max_new_tokens=6, device="cpu",
                           seed=7, do_sample=True)
    assert sampled.describe(frames) == sampled.describe(frames)


def test_make_describer_builds_a_vlm_describer(tiny_llava, frames):
    describer = make_describer(f"vlm:{tiny_llava}", max_new_tokens=4, device="cpu")
    assert isinstance(describer, VLMDescriber)
    assert len(describer.describe(frames[:1])) == 1


def test_vlm_describer_refuses_a_checkpoint_whose_weights_do_not_load(tiny_llava, tmp_path):
    # An original-format checkpoint (like the Q-Instruct LLaVA repositories) names its
    # weights differently: transformers would leave every weight newly initialised.
    from safetensors.torch import load_file, save_file

    foreign = tmp_path / "original-format"
    shutil.copytree(tiny_llava, foreign)
    weights = load_file(str(foreign / "model.safetensors"))
    save_file({f"original_llava.{k}": v for k, v in weights.items()},
              str(foreign / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(RuntimeError, match="missing from the checkpoint.*convert"):
        VLMDescriber(str(foreign), device="cpu")


def test_vlm_describer_fails_at_once_for_an_uncached_model_offline():
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        VLMDescriber("no-such-org/no-such-vlm", device="cpu")
    assert time.perf_counter() - start < 10
