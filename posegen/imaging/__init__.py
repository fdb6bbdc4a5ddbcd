"""Pure image functions: control maps, the mannequin renderer, backgrounds, thumbnails, exports."""
