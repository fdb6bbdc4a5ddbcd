// The library page.
