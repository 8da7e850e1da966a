"""AWS access: the one session factory and thin, typed wrappers per service."""
