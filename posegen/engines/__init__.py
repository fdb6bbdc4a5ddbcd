"""Image engines behind one protocol: mannequin (offline), flux (HTTP), diffusers (local GPU), sleep
(tests only)."""
