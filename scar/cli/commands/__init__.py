"""One module per scar command; each exposes `run(args, ctx) -> int`."""
