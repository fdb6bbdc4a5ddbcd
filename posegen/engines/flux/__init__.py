"""The `flux` engine: FLUX.1 text-to-image over the Hugging Face Inference protocol."""

from posegen.engines.base import DEFAULT_RETRY_DELAYS, retry_delay
from posegen.engines.flux.engine import QUALITY_PROFILES, FluxEngine, QualityProfile, parse_retry_after
from posegen.engines.flux.prompt import NEGATIVE_PROMPT, build_prompt

__all__ = [
    "DEFAULT_RETRY_DELAYS",
    "NEGATIVE_PROMPT",
    "QUALITY_PROFILES",
    "FluxEngine",
    "QualityProfile",
    "build_prompt",
    "parse_retry_after",
    "retry_delay",
]
