// The credits page.
