"""Configuration: the default scar.cfg, file loading, merging, validation and the typed specs."""
