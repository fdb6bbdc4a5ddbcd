"""Image engines behind one protocol: mannequin (offline), flux (HTTP), sleep (tests only)."""
