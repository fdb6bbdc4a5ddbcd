// The project page.
