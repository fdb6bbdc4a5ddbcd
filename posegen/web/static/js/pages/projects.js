// The projects page.
