"""What a pose costs: the quality's price plus the background surcharge (all from settings)."""

from __future__ import annotations

from posegen.config import PricingSettings

# Ledger references of a generation's money: its charges (first and every retry) reference the
# generation; each pose's refund references the pose (`outcomes.refund_reference`).
CHARGE_REFERENCE = "generation"
POSE_REFERENCE = "generated_pose"


def pose_cost(pricing: PricingSettings, quality: str, background_changer: bool) -> int:
    price = {"draft": pricing.draft, "standard": pricing.standard, "pro": pricing.pro}[quality]
    return price + (pricing.background_surcharge if background_changer else 0)
