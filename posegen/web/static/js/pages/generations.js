// The generations page.
