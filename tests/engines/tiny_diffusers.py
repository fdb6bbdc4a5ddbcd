"""A tiny random-weight SD 1.5 + ControlNet OpenPose model, written to disk like the real ones.

The layout is what `posegen models pull` leaves in the Hugging Face cache for the real models: a
Stable Diffusion 1.5 pipeline directory (`model_index.json`, `unet/`, `vae/`, `text_encoder/`,
`tokenizer/`, `scheduler/`) and a separate ControlNet directory, so the engine loads them through its
normal code path (`from_pretrained(..., local_files_only=True)`). The sizes follow the dummy
components of diffusers' own pipeline tests (two UNet blocks of 4 and 8 channels, a 32-wide CLIP text
encoder), so one 64 × 64 render of a few steps takes milliseconds on a CPU. The weights are random
but fixed by `seed`: the same seed writes the same model.

Nothing is downloaded: the CLIP tokenizer, which diffusers' tests fetch from the Hub, is built here
from a byte-level vocabulary (every byte alone and as a word end) and no merges, so every prompt
still tokenizes (one token per character).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    ControlNetModel,
    DDIMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from safetensors.torch import save_file
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

# Pixels per latent of the tiny VAE (two blocks: one downsampling); the control image encoder of the
# ControlNet must shrink by the same factor, which `conditioning_embedding_out_channels` of two does.
TINY_VAE_SCALE = 2
TINY_MAX_TOKENS = 77
TINY_CROSS_ATTENTION = 32  # the text encoder's width, which the UNet's cross-attention reads
TINY_IP_TOKENS = 4  # image tokens the IP-Adapter adds to the text tokens
TINY_IP_WEIGHT = "models/ip-adapter_tiny.safetensors"  # the layout of h94/IP-Adapter


@dataclass(frozen=True)
class TinyModels:
    """Where the tiny models were written: pass `base` as the base model id and `controlnet` as the
    ControlNet id (both are local directories)."""

    base: Path
    controlnet: Path


def _byte_characters() -> list[str]:
    """The 256 printable stand-ins CLIP's byte-level BPE uses for bytes (GPT-2's table)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    characters = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            characters.append(256 + extra)
            extra += 1
    return [chr(code) for code in characters]


def tiny_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer over single bytes: 2 special tokens + 256 bytes + 256 word-final bytes."""
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for character in _byte_characters():
        vocab[character] = len(vocab)
        vocab[character + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=TINY_MAX_TOKENS)


def build_tiny_pipeline(seed: int = 0) -> tuple[StableDiffusionPipeline, ControlNetModel]:
    """The tiny SD 1.5 pipeline (no safety checker) and its ControlNet, with weights drawn from `seed`."""
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TINY_CROSS_ATTENTION,
        norm_num_groups=1,
    )
    torch.manual_seed(seed + 1)
    controlnet = ControlNetModel(
        block_out_channels=(4, 8),
        layers_per_block=2,
        in_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        cross_attention_dim=TINY_CROSS_ATTENTION,
        # Four entries: three stride-2 steps, the latent scale of SD 1.5's VAE (below).
        conditioning_embedding_out_channels=(4, 4, 8, 8),
        norm_num_groups=1,
    )
    # A trained ControlNet's "zero convolutions" (after the control image encoder, and on each
    # residual it hands the UNet) are far from zero; freshly made ones are zero, which would hide the
    # control image from the UNet entirely.
    zero_convolutions = (
        "controlnet_cond_embedding.conv_out",
        "controlnet_down_blocks",
        "controlnet_mid_block",
    )
    with torch.no_grad():
        generator = torch.Generator().manual_seed(seed + 2)
        for name, parameter in controlnet.named_parameters():
            if name.startswith(zero_convolutions):
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 5.0)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    torch.manual_seed(seed + 3)
    # Four levels, as SD 1.5's VAE: latents are an eighth of the image's side, so a 512² draft
    # denoises 64² latents (with two levels it would be 256², and attention over them takes minutes).
    vae = AutoencoderKL(
        block_out_channels=(4, 4, 8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
    )
    torch.manual_seed(seed + 4)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=TINY_CROSS_ATTENTION,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=1000,
            max_position_embeddings=TINY_MAX_TOKENS,
        )
    )
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tiny_tokenizer(),
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return pipeline, controlnet


def write_tiny_models(root: Path, seed: int = 0) -> TinyModels:
    """Write the tiny base model and ControlNet under `root` (safetensors) and say where."""
    pipeline, controlnet = build_tiny_pipeline(seed)
    models = TinyModels(base=root / "sd15-tiny", controlnet=root / "controlnet-openpose-tiny")
    pipeline.save_pretrained(models.base, safe_serialization=True)
    controlnet.save_pretrained(models.controlnet, safe_serialization=True)
    return models


def write_tiny_ip_adapter(root: Path, models: TinyModels, seed: int = 0) -> Path:
    """Write an IP-Adapter for the tiny UNet under `root`, laid out like `h94/IP-Adapter`:
    `models/<weight>.safetensors` (keys `image_proj.*` and `ip_adapter.<n>.to_{k,v}_ip.weight`, the
    format `load_ip_adapter` reads) and its CLIP vision encoder in `models/image_encoder/`.

    The key numbering follows the original IP-Adapter checkpoints: the cross-attention processors
    (`attn2`) of the UNet, in `attn_processors` order, are numbered 1, 3, 5, …
    """
    unet = UNet2DConditionModel.from_pretrained(models.base, subfolder="unet", local_files_only=True)
    channels = list(unet.config.block_out_channels)
    generator = torch.Generator().manual_seed(seed + 5)

    def weight(rows: int, columns: int) -> torch.Tensor:
        return torch.randn(rows, columns, generator=generator) * 3.0

    tensors: dict[str, torch.Tensor] = {}
    key = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        if name.startswith("mid_block"):
            width = channels[-1]
        elif name.startswith("up_blocks"):
            width = list(reversed(channels))[block]
        else:
            width = channels[block]
        tensors[f"ip_adapter.{key}.to_k_ip.weight"] = weight(width, TINY_CROSS_ATTENTION)
        tensors[f"ip_adapter.{key}.to_v_ip.weight"] = weight(width, TINY_CROSS_ATTENTION)
        key += 2
    # ImageProjection: the encoder's image embedding → TINY_IP_TOKENS tokens of the text width.
    tensors["image_proj.proj.weight"] = weight(TINY_CROSS_ATTENTION * TINY_IP_TOKENS, TINY_CROSS_ATTENTION)
    tensors["image_proj.proj.bias"] = torch.zeros(TINY_CROSS_ATTENTION * TINY_IP_TOKENS)
    tensors["image_proj.norm.weight"] = torch.ones(TINY_CROSS_ATTENTION)
    tensors["image_proj.norm.bias"] = torch.zeros(TINY_CROSS_ATTENTION)
    directory = root / "ip-adapter-tiny"
    weight_file = directory / TINY_IP_WEIGHT
    weight_file.parent.mkdir(parents=True)
    save_file(tensors, str(weight_file))
    torch.manual_seed(seed + 6)
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=TINY_CROSS_ATTENTION,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=37,
            image_size=32,
            patch_size=8,
        )
    )
    encoder.save_pretrained(weight_file.parent / "image_encoder", safe_serialization=True)
    return directory
