"""OSCAR clusters: the REST client, the service kind of the deploy engine, deploy, remove and list."""
