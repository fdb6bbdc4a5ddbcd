// The generate page.
