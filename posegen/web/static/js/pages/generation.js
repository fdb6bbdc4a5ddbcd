// The generation page.
