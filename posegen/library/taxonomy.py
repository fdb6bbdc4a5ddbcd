"""The pose library's categories: 6 roots and 22 subcategories (the one list of them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Difficulty(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class GenderSuitability(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNISEX = "unisex"


class Framing(StrEnum):
    FULL_BODY = "full_body"
    UPPER_BODY = "upper_body"
    PORTRAIT = "portrait"


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    description: str
    icon: str
    color: str
    parent: str | None = None


def _children(parent: str, icon: str, color: str, items: list[tuple[str, str, str]]) -> list[CategorySpec]:
    return [CategorySpec(slug, name, text, icon, color, parent) for slug, name, text in items]


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "professional", "Professional", "Poses for work, business and speaking.", "briefcase", "#2563EB"
    ),
    *_children(
        "professional",
        "briefcase",
        "#2563EB",
        [
            ("business-portraits", "Business Portraits", "Confident standing and seated business portraits."),
            (
                "corporate-headshots",
                "Corporate Headshots",
                "Head-and-shoulders framing for profiles and badges.",
            ),
            ("conference-speaking", "Conference Speaking", "Presenting, gesturing and speaking on stage."),
            ("office-workspace", "Office & Workspace", "At the desk, by the whiteboard, around the office."),
        ],
    ),
    CategorySpec(
        "e-commerce", "E-commerce", "Poses that sell products and show them off.", "shopping-bag", "#F97316"
    ),
    *_children(
        "e-commerce",
        "shopping-bag",
        "#F97316",
        [
            ("product-modeling", "Product Modeling", "Showing garments and accessories to the camera."),
            ("shopee-tiktok", "Shopee & TikTok", "Energetic marketplace and short-video poses."),
            ("before-after", "Before & After", "Neutral, comparable stances for before/after shots."),
            ("live-selling", "Live Selling", "Holding up, pointing at and presenting items live."),
        ],
    ),
    CategorySpec("fashion", "Fashion", "Editorial, street and runway poses.", "sparkles", "#DB2777"),
    *_children(
        "fashion",
        "sparkles",
        "#DB2777",
        [
            ("editorial", "Editorial", "Angular, expressive magazine poses."),
            ("street-style", "Street Style", "Casual, candid poses for street fashion."),
            ("runway-catwalk", "Runway & Catwalk", "Walking and turning like on the catwalk."),
        ],
    ),
    CategorySpec("hijab", "Hijab", "Modest-fashion poses for hijab wearers.", "moon", "#059669"),
    *_children(
        "hijab",
        "moon",
        "#059669",
        [
            ("casual-hijab", "Casual Hijab", "Relaxed everyday poses for hijab styles."),
            ("professional-hijab", "Professional Hijab", "Business and office poses for hijab wearers."),
            ("fashion-hijab", "Fashion Hijab", "Modest-fashion editorial and street poses."),
            ("wedding-hijab", "Wedding Hijab", "Graceful bridal and ceremony poses."),
        ],
    ),
    CategorySpec("casual", "Casual", "Everyday, social and outdoor poses.", "sun", "#CA8A04"),
    *_children(
        "casual",
        "sun",
        "#CA8A04",
        [
            ("everyday-casual", "Everyday Casual", "Natural standing and walking poses."),
            ("social-media", "Social Media", "Playful poses for feeds and stories."),
            ("outdoor-lifestyle", "Outdoor Lifestyle", "Poses for parks, travel and the outdoors."),
            ("sitting-relaxed", "Sitting & Relaxed", "Seated, leaning and lounging poses."),
        ],
    ),
    CategorySpec("sports", "Sports", "Fitness, yoga and running poses.", "activity", "#DC2626"),
    *_children(
        "sports",
        "activity",
        "#DC2626",
        [
            ("fitness-gym", "Fitness & Gym", "Strength and gym exercise poses."),
            ("yoga-wellness", "Yoga & Wellness", "Yoga asanas and stretches."),
            ("running-cardio", "Running & Cardio", "Running, jumping and cardio movement."),
        ],
    ),
)

SUBCATEGORY_SLUGS: tuple[str, ...] = tuple(spec.slug for spec in CATEGORIES if spec.parent is not None)
