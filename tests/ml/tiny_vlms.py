"""Tiny random-weight vision-language models of two families, saved as a user's model folder would be.

Built offline from transformers configs: a small BPE is trained with ``tokenizers`` on a few sentences,
the special tokens each processor needs are added, and a chat template is attached. Random weights are
enough to test the plumbing (loading, prompts, streaming, scoring, batching, resume); no test relies on
what a model answers.
"""

from __future__ import annotations

from pathlib import Path

import torch

_CORPUS = [
    "What technique was used to acquire this micrograph? Answer with the letter of the correct option.",
    "A. Scanning electron microscopy B. Transmission electron microscopy C. Atomic force microscopy",
    "D. Reflected light microscopy E. Optical microscope. The image shows grains, dendrites and pores.",
    "Describe the image: technique, features, scale and defects. user assistant system Example answer",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,:;!?()[]-_/'\"",
]

QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
IDEFICS_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for c in message['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}{% elif c['type'] == 'image' %}"
    "{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def bpe_tokenizer(special: list[str], eos: str, pad: str):
    """A byte-level BPE trained on :data:`_CORPUS` with ``special`` added as atomic tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_CORPUS * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token=pad)


def _ids(tokenizer, names: list[str]) -> dict[str, int]:
    return {n: tokenizer.convert_tokens_to_ids(n) for n in names}


def build_qwen2_vl(folder: Path) -> Path:
    """Qwen2-VL: 2 vision + 2 text layers, images resized to at most 112×112 pixels (≤ 16 image tokens)."""
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
               "<|image_pad|>", "<|video_pad|>"]  # fmt: skip
    tokenizer = bpe_tokenizer(special, eos="<|im_end|>", pad="<|endoftext|>")
    ids = _ids(tokenizer, special)
    text = {"vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048,
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0},
            "bos_token_id": None, "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"]}  # fmt: skip
    vision = {"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2,
              "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}  # fmt: skip
    config = Qwen2VLConfig(
        text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )  # fmt: skip
    torch.manual_seed(0)
    Qwen2VLForConditionalGeneration(config).save_pretrained(folder)
    image_processor = Qwen2VLImageProcessor(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112})
    video_processor = Qwen2VLVideoProcessor()
    processor = Qwen2VLProcessor(image_processor, tokenizer, video_processor, chat_template=QWEN_TEMPLATE)
    processor.save_pretrained(folder)
    return folder


def build_idefics3(folder: Path) -> Path:
    """Idefics3 (SmolVLM's architecture): 32 px vision tower, 4 image tokens, no image splitting."""
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessor, Idefics3Processor

    special = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>",
               "<global-img>"]  # fmt: skip
    tokenizer = bpe_tokenizer(special, eos="<end_of_utterance>", pad="<|endoftext|>")
    ids = _ids(tokenizer, special)
    text = {"vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048,
            "pad_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<end_of_utterance>"],
            "bos_token_id": None}  # fmt: skip
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
              "image_size": 32, "patch_size": 8}  # fmt: skip
    config = Idefics3Config(
        text_config=text, vision_config=vision, scale_factor=2, image_token_id=ids["<image>"],
        pad_token_id=ids["<|endoftext|>"], eos_token_id=ids["<end_of_utterance>"],
    )  # fmt: skip
    torch.manual_seed(0)
    Idefics3ForConditionalGeneration(config).save_pretrained(folder)
    image_processor = Idefics3ImageProcessor(
        size={"longest_edge": 32}, max_image_size={"longest_edge": 32}, do_image_splitting=False
    )
    Idefics3Processor(
        image_processor=image_processor, tokenizer=tokenizer, image_seq_len=4, chat_template=IDEFICS_TEMPLATE
    ).save_pretrained(folder)
    return folder
