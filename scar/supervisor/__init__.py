"""The in-function runtime: turns an event into a run of the user's script inside the container."""
