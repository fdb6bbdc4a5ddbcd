// The requests page.
