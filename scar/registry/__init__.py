"""The OCI distribution client (pull and push over `requests`) and the local image store.

- reference.py: `name[:tag|@digest]` parsed the way Docker reads it;
- errors.py: RegistryError, with the registry's own error codes;
- auth.py: anonymous, basic and bearer-token authentication, ECR's token;
- client.py: manifests, blobs (HEAD first, streamed and verified downloads, monolithic or chunked uploads,
  cross-repository mounts), manifests pushed by tag or digest;
- platforms.py: choosing one image of an index by platform;
- store.py: the local store under ~/.cache/scar/images, keyed by digest, read by the supervisor's extractor;
- transfer.py: pull and push of whole images, concurrent, with a progress bar on a terminal.

The client may import the supervisor (its image reader); the supervisor never imports this package.
"""
