"""The engines this process offers, built once from settings."""

from __future__ import annotations

from collections.abc import Mapping

from posegen.config import Settings
from posegen.engines.base import Engine
from posegen.engines.comfyui.engine import ComfyUIEngine
from posegen.engines.diffusers.engine import DiffusersEngine
from posegen.engines.flux.engine import FluxEngine
from posegen.engines.mannequin import MannequinEngine
from posegen.engines.sleep import SleepEngine
from posegen.engines.unconfigured import UnconfiguredEngine


class EngineRegistry:
    def __init__(self, engines: Mapping[str, Engine]) -> None:
        self.engines = dict(engines)

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineRegistry:
        engines: dict[str, Engine] = {"mannequin": MannequinEngine()}
        engines["flux"] = FluxEngine.from_settings(settings.engines)
        if settings.engines.comfyui_urls:
            # Builds and checks the workflow: an unusable one stops start-up with its reason.
            engines["comfyui"] = ComfyUIEngine.from_settings(settings.engines)
        else:
            engines["comfyui"] = UnconfiguredEngine(
                "comfyui", "Remote ComfyUI GPU servers (set POSEGEN_ENGINES_COMFYUI_URLS to use them)."
            )
        if settings.engines.diffusers_enabled:
            # Loads the model now: a missing extra or model stops the process at start.
            engines["diffusers"] = DiffusersEngine.from_settings(
                settings.engines, batch_size=settings.work.batch_size
            )
        else:
            engines["diffusers"] = UnconfiguredEngine(
                "diffusers",
                "A local GPU in the worker (set POSEGEN_ENGINES_DIFFUSERS_ENABLED=true to use it).",
            )
        if settings.engines.enable_sleep:
            engines["sleep"] = SleepEngine(settings.engines.sleep_latency_ms / 1000)
        return cls(engines)

    def get(self, name: str) -> Engine | None:
        return self.engines.get(name)

    async def aclose(self) -> None:
        for engine in self.engines.values():
            await engine.aclose()
