"""Pose library: categories, poses, favorites, requests; the body model and curated pose data."""
