"""Domain operations. They take the acting user explicitly, never touch
`request`, and only flush: the request boundary (or the CLI command) commits."""
